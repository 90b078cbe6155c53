"""The form funnel: views, starts, submissions and what became of them, per origin, summed from
the daily counters (`FormCount`) of the report's range."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from leadsite.analytics.query import ReportQuery
from leadsite.extensions import db
from leadsite.models import FormCount, FormEvent

# The steps the chart draws, in order; `held` and `invalid` are outcomes beside them.
STEPS = (
    FormEvent.VIEW,
    FormEvent.START,
    FormEvent.SUBMIT,
    FormEvent.REGISTERED_NEW,
    FormEvent.REGISTERED_RETURNING,
    FormEvent.CONFIRMED,
    FormEvent.CONVERTED,
)


@dataclass
class FormCounts:
    """One origin's (or all origins') counts by event, and its validation failures by field."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FormEvent, 0))
    invalid_by_field: dict[str, int] = field(default_factory=dict)

    @property
    def registrations(self) -> int:
        return self.counts[FormEvent.REGISTERED_NEW] + self.counts[FormEvent.REGISTERED_RETURNING]

    def add(self, event: str, field_name: str, count: int) -> None:
        if event not in self.counts:
            return  # an event a later version counts; this report does not know it
        self.counts[event] += count
        if event == FormEvent.INVALID:
            key = field_name or "(form)"
            self.invalid_by_field[key] = self.invalid_by_field.get(key, 0) + count


@dataclass
class FormFunnel:
    total: FormCounts
    by_origin: dict[str, FormCounts]


def form_funnel(query: ReportQuery) -> FormFunnel:
    """Every counter of the funnel's origins in the range (UTC days), summed per origin, event
    and field: one indexed range scan of `form_counts` by (funnel, day)."""
    statement = (
        select(FormCount.origin_id, FormCount.event, FormCount.field, func.sum(FormCount.count))
        .where(
            FormCount.funnel_id == query.funnel_id,
            FormCount.day >= query.start,
            FormCount.day <= query.end,
        )
        .group_by(FormCount.origin_id, FormCount.event, FormCount.field)
    )
    if query.origin_id:
        statement = statement.where(FormCount.origin_id == query.origin_id)
    total = FormCounts()
    by_origin: dict[str, FormCounts] = defaultdict(FormCounts)
    for origin_id, event, field_name, count in db.session.execute(statement):
        total.add(event, field_name, int(count or 0))
        by_origin[origin_id].add(event, field_name, int(count or 0))
    total.invalid_by_field = dict(sorted(total.invalid_by_field.items(), key=_most_first))
    return FormFunnel(total=total, by_origin=dict(by_origin))


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])
