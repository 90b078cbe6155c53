"""The journey funnel of the journeys registered in a report's range: per stage how many entered,
wait, completed it, skipped it and where they went next; per activity its completion rate, the
time from due to done and what is overdue; conversions and the time they took.

Read from the rollup (`journey_counts`, kept by `analytics.rollup_session` in each change's
transaction) by (funnel, day[, origin]): a few thousand rows a month, however many journeys. What
a journey counts for is `rollup.contribution`: a stage was entered when its steps were made due
(or, with no activities, when the engine entered it); passed over, its steps were skipped
without ever being due. Percentiles come from the time-spent histogram, made exact by reading the
values of the percentile's bucket alone (`journey_durations`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select

from leadsite.analytics.percentiles import MEDIAN, P90, interpolated
from leadsite.analytics.query import ReportQuery
from leadsite.analytics.rollup import CANCELLED, CONVERT, END, NOT_YET
from leadsite.extensions import db
from leadsite.models import (
    Activity,
    JourneyCount,
    JourneyDuration,
    JourneyStatus,
    Stage,
)

__all__ = ["CANCELLED", "END", "NOT_YET", "JourneyFunnel", "counts_in", "journey_funnel"]


@dataclass
class StageRow:
    id: str
    name: str
    entered: int = 0
    waiting: int = 0
    completed: int = 0
    skipped: int = 0
    # Where the journeys that completed the stage went: a stage id, END, NOT_YET or CANCELLED.
    next: dict[str, int] = field(default_factory=dict)


@dataclass
class ActivityRow:
    id: str
    stage_id: str
    title: str
    kind: str
    reached: int = 0  # steps made due: their stage was entered
    done: int = 0
    skipped: int = 0  # reached, then skipped
    open: int = 0  # due, waiting or failed
    overdue: int = 0
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @property
    def completion_rate(self) -> float | None:
        return self.done / self.reached if self.reached else None


@dataclass
class JourneyFunnel:
    journeys: int
    by_status: dict[str, int]
    stages: list[StageRow]
    activities: list[ActivityRow]
    median_convert_seconds: float | None

    @property
    def converted(self) -> int:
        return self.by_status[JourneyStatus.COMPLETED]

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.journeys if self.journeys else None


def counts_in(query: ReportQuery, *conditions: Any) -> Select:
    """(metric, item, bucket, n) of the range's rollup rows, summed over days and origins."""
    count = JourneyCount
    statement = (
        select(count.metric, count.item, count.bucket, func.sum(count.n))
        .where(
            count.funnel_id == query.funnel_id,
            count.day >= query.start,
            count.day <= query.end,
            *conditions,
        )
        .group_by(count.metric, count.item, count.bucket)
    )
    if query.origin_id:
        statement = statement.where(count.origin_id == query.origin_id)
    return statement


def journey_funnel(query: ReportQuery, now: datetime) -> JourneyFunnel:
    stages = list(
        db.session.scalars(
            select(Stage).where(Stage.funnel_id == query.funnel_id).order_by(Stage.position)
        )
    )
    activities = list(
        db.session.execute(
            select(Activity, Stage.id)
            .join(Stage, Stage.id == Activity.stage_id)
            .where(Stage.funnel_id == query.funnel_id)
            .order_by(Stage.position, Activity.position)
        )
    )
    rows = {s.id: StageRow(s.id, s.name) for s in stages}
    activity_rows = {
        a.id: ActivityRow(a.id, stage_id, a.title, a.kind) for a, stage_id in activities
    }
    by_status: dict[str, int] = dict.fromkeys(JourneyStatus, 0)
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    today = now.date().toordinal()
    for metric, item, bucket, n in db.session.execute(
        counts_in(query, JourneyCount.metric.not_like("attr%"))
    ):
        n = int(n or 0)
        if not n:
            continue
        if metric == "status":
            by_status[item] = by_status.get(item, 0) + n
        elif metric.startswith("stage_"):
            _add_stage(rows, metric, item, n)
        elif metric in ("step_spent", "convert"):
            histograms[item if metric == "step_spent" else CONVERT][int(bucket)] = n
        elif item in activity_rows:
            _add_step(activity_rows[item], metric, int(bucket), n, today)
    spent = _percentiles(query, histograms)
    for activity_id, (median, p90) in spent.items():
        if activity_id in activity_rows:
            row = activity_rows[activity_id]
            row.median_seconds, row.p90_seconds = median, p90
    return JourneyFunnel(
        journeys=sum(by_status.values()),
        by_status=by_status,
        stages=list(rows.values()),
        activities=list(activity_rows.values()),
        median_convert_seconds=spent[CONVERT][0] if CONVERT in spent else None,
    )


def _add_stage(rows: dict[str, StageRow], metric: str, item: str, n: int) -> None:
    if metric == "stage_next":
        stage_id, _, target = item.partition(">")
        if stage_id in rows:
            rows[stage_id].next[target] = rows[stage_id].next.get(target, 0) + n
        return
    row = rows.get(item)
    name = metric.removeprefix("stage_")
    if row is not None and name in ("entered", "waiting", "completed", "skipped"):
        setattr(row, name, getattr(row, name) + n)


def _add_step(row: ActivityRow, metric: str, bucket: int, n: int, today: int) -> None:
    if metric == "step_open_due":
        row.overdue += n if bucket < today else 0
        return
    name = metric.removeprefix("step_")
    if name in ("reached", "done", "skipped", "open"):
        setattr(row, name, getattr(row, name) + n)


def _percentiles(
    query: ReportQuery,
    histograms: dict[str, dict[int, int]],
    fractions: tuple[float, ...] = (MEDIAN, P90),
) -> dict[str, tuple[float, ...]]:
    """Per activity (and `CONVERT`), the percentiles of its times spent, interpolated between
    the closest ranks as PostgreSQL's percentile_cont: the histogram names the bucket of each
    rank needed, and only those buckets' values are read, sorted."""
    wanted: dict[str, dict[int, tuple[int, int]]] = {}  # key -> rank -> (bucket, rank in it)
    for key, histogram in histograms.items():
        count = sum(histogram.values())
        ranks = set()
        for fraction in fractions:
            low = int(fraction * (count - 1))
            ranks.update(r for r in (low + 1, low + 2) if r <= count)
        wanted[key] = _locate(histogram, sorted(ranks))
    buckets = {(key, bucket) for key, found in wanted.items() for bucket, _ in found.values()}
    if not buckets:
        return {}
    duration = JourneyDuration
    statement = select(duration.activity_id, duration.bucket, duration.seconds).where(
        duration.funnel_id == query.funnel_id,
        or_(*(and_(duration.activity_id == k, duration.bucket == b) for k, b in sorted(buckets))),
        duration.day >= query.start,
        duration.day <= query.end,
    )
    if query.origin_id:
        statement = statement.where(duration.origin_id == query.origin_id)
    values: dict[tuple[str, int], list[float]] = defaultdict(list)
    for key, bucket, seconds in db.session.execute(statement):
        values[key, int(bucket)].append(float(seconds))
    for found in values.values():
        found.sort()
    result: dict[str, tuple[float, ...]] = {}
    for key, ranks in wanted.items():
        ranked = {
            rank: values[key, bucket][offset]
            for rank, (bucket, offset) in ranks.items()
            if offset < len(values[key, bucket])
        }
        if len(ranked) == len(ranks) and ranked:
            count = sum(histograms[key].values())
            result[key] = tuple(interpolated(ranked, count, f) for f in fractions)
    return result


def _locate(histogram: dict[int, int], ranks: list[int]) -> dict[int, tuple[int, int]]:
    """Each rank (from 1) as (its bucket, its index among the bucket's sorted values)."""
    located: dict[int, tuple[int, int]] = {}
    below = 0
    pending = list(ranks)
    for bucket in sorted(histogram):
        inside = histogram[bucket]
        while pending and pending[0] <= below + inside:
            rank = pending.pop(0)
            located[rank] = (bucket, rank - below - 1)
        below += inside
    return located
