"""A funnel's report: the form funnel, the journey funnel and attribution for one range, as the
page, the API and the CSV download show it (one dictionary, so that the three agree)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text

from leadsite.analytics import counters
from leadsite.analytics.attribution import DIMENSIONS, AttributionRow, attribution
from leadsite.analytics.charts import BarChart, bar_chart
from leadsite.analytics.form_funnel import FormCounts, FormFunnel, form_funnel
from leadsite.analytics.journey_funnel import (
    CANCELLED,
    END,
    NOT_YET,
    JourneyFunnel,
    journey_funnel,
)
from leadsite.analytics.query import ReportQuery
from leadsite.extensions import db
from leadsite.models import FormEvent, Origin

FORM_LABELS = {
    FormEvent.VIEW: "Views",
    FormEvent.START: "Starts",
    FormEvent.SUBMIT: "Submissions",
    FormEvent.HELD: "Held as bots",
    FormEvent.INVALID: "Validation failures",
    FormEvent.REGISTERED_NEW: "New registrations",
    FormEvent.REGISTERED_RETURNING: "Returning registrations",
    FormEvent.CONFIRMED: "Confirmations",
    FormEvent.CONVERTED: "Conversions",
}

AFTER_LAST = {END: "End (converted)", CANCELLED: "Cancelled", NOT_YET: "Not moved on yet"}


@dataclass
class Report:
    query: ReportQuery
    origins: list[Origin]
    form: FormFunnel
    journeys: JourneyFunnel
    attribution: dict[str, list[AttributionRow]]

    @property
    def origin_names(self) -> dict[str, str]:
        return {origin.id: origin.name for origin in self.origins}

    def stage_name(self, target: str) -> str:
        """What a stage's "went next to" names: a stage, or where a journey ends."""
        names = {stage.id: stage.name for stage in self.journeys.stages}
        return names.get(target) or AFTER_LAST[target]

    def form_chart(self) -> BarChart:
        counts = self.form.total.counts
        return bar_chart(
            [
                ("Views", counts[FormEvent.VIEW], None),
                ("Starts", counts[FormEvent.START], None),
                ("Submissions", counts[FormEvent.SUBMIT], None),
                ("Registrations", self.form.total.registrations, None),
                ("Confirmations", counts[FormEvent.CONFIRMED], None),
                ("Conversions", counts[FormEvent.CONVERTED], None),
            ]
        )

    def journey_chart(self) -> BarChart:
        """Registrations, then per stage those who entered it (darker: completed it), then the
        conversions."""
        steps: list[tuple[str, int, int | None]] = [("Registered", self.journeys.journeys, None)]
        steps += [(s.name, s.entered, s.completed) for s in self.journeys.stages]
        steps.append(("Converted", self.journeys.converted, None))
        return bar_chart(steps)

    def as_dict(self) -> dict[str, Any]:
        names = self.origin_names
        return {
            "funnel_id": self.query.funnel_id,
            "from": self.query.start.isoformat(),
            "to": self.query.end.isoformat(),
            "origin": self.query.origin_id,
            "form": {
                "total": _counts_dict(self.form.total),
                "origins": [
                    {"id": o.id, "name": o.name, "kind": o.kind, **_counts_dict(counts)}
                    for o in self.origins
                    if (counts := self.form.by_origin.get(o.id)) is not None
                ],
            },
            "journeys": _journeys_dict(self.journeys),
            "attribution": {
                key: [
                    {
                        "value": row.value,
                        "label": names.get(row.value or "", row.value) if key == "origin" else None,
                        "registrations": row.registrations,
                        "conversions": row.conversions,
                        "conversion_rate": _rate(row.conversion_rate),
                    }
                    for row in self.attribution[key]
                ]
                for key, _, _ in DIMENSIONS
            },
        }


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _counts_dict(counts: FormCounts) -> dict[str, Any]:
    return {
        **{str(event): counts.counts[event] for event in FormEvent},
        "registrations": counts.registrations,
        "invalid_by_field": dict(counts.invalid_by_field),
    }


def _journeys_dict(funnel: JourneyFunnel) -> dict[str, Any]:
    return {
        "registrations": funnel.journeys,
        "converted": funnel.converted,
        "conversion_rate": _rate(funnel.conversion_rate),
        "median_seconds_to_convert": _seconds(funnel.median_convert_seconds),
        "by_status": {str(k): v for k, v in funnel.by_status.items()},
        "stages": [
            {
                "id": s.id,
                "name": s.name,
                "entered": s.entered,
                "waiting": s.waiting,
                "completed": s.completed,
                "skipped": s.skipped,
                "next": dict(sorted(s.next.items(), key=lambda item: -item[1])),
            }
            for s in funnel.stages
        ],
        "activities": [
            {
                "id": a.id,
                "stage_id": a.stage_id,
                "title": a.title,
                "kind": a.kind,
                "reached": a.reached,
                "done": a.done,
                "skipped": a.skipped,
                "open": a.open,
                "overdue": a.overdue,
                "completion_rate": _rate(a.completion_rate),
                "median_seconds": _seconds(a.median_seconds),
                "p90_seconds": _seconds(a.p90_seconds),
            }
            for a in funnel.activities
        ],
    }


def _tune_postgres() -> None:
    """For this transaction: no JIT (compiling the report's few statements cost more than
    running them, 350 ms of 850 on the 1M bench) and room to sort a month of steps in memory."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
        db.session.execute(text("SET LOCAL work_mem = '32MB'"))


def build_report(query: ReportQuery, now: datetime) -> Report:
    counters.flush()  # this process's counts still queued, before the transaction reads
    _tune_postgres()
    origins = list(
        db.session.scalars(
            select(Origin)
            .where(Origin.funnel_id == query.funnel_id)
            .order_by(Origin.created_at, Origin.id)
        )
    )
    return Report(
        query=query,
        origins=origins,
        form=form_funnel(query),
        journeys=journey_funnel(query, now),
        attribution=attribution(query),
    )


def csv_rows(report: dict[str, Any]) -> Iterator[list[Any]]:
    """The report's every number as (section, group, item, metric, value) rows: the same
    dictionary the API answers with, laid flat for a spreadsheet."""
    yield ["section", "group", "item", "metric", "value"]
    form = report["form"]
    for name, counts in [("all origins", form["total"])] + [
        (origin["name"], origin) for origin in form["origins"]
    ]:
        for metric, value in counts.items():
            if metric == "invalid_by_field":
                for field_name, count in value.items():
                    yield ["form", name, field_name, "invalid", count]
            elif metric not in ("id", "name", "kind"):
                yield ["form", name, "", metric, value]
    journeys = report["journeys"]
    for metric in ("registrations", "converted", "conversion_rate", "median_seconds_to_convert"):
        yield ["journeys", "summary", "", metric, journeys[metric]]
    for status, count in journeys["by_status"].items():
        yield ["journeys", "status", status, "journeys", count]
    stage_names = {s["id"]: s["name"] for s in journeys["stages"]}
    for stage in journeys["stages"]:
        for metric in ("entered", "waiting", "completed", "skipped"):
            yield ["journeys", "stage", stage["name"], metric, stage[metric]]
        for target, count in stage["next"].items():
            yield ["journeys", "next", stage["name"], stage_names.get(target, target), count]
    for activity in journeys["activities"]:
        for metric, value in activity.items():
            if metric not in ("id", "stage_id", "title", "kind"):
                yield ["journeys", "activity", activity["title"], metric, value]
    for key, rows in report["attribution"].items():
        for row in rows:
            item = row["label"] or row["value"] or "(none)"
            for metric in ("registrations", "conversions", "conversion_rate"):
                yield ["attribution", key, item, metric, row[metric]]
