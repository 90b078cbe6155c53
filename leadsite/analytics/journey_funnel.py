"""The journey funnel of the journeys registered in a report's range: per stage how many entered,
wait, completed it, skipped it and where they went next; per activity its completion rate, the
time from due to done and what is overdue; conversions and the time they took.

Everything is read from the journeys' steps, which hold what happened: a stage was entered when
its steps were made due (`due_at` set); passed over, its steps were skipped without ever being
due. A stage without activities leaves no steps: its counts stay at zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal_column, select

from leadsite.analytics.percentiles import percentiles, seconds_between
from leadsite.analytics.query import ReportQuery
from leadsite.extensions import db
from leadsite.models import Activity, Journey, JourneyStatus, JourneyStep, Stage, StepStatus

OPEN = (StepStatus.DUE.value, StepStatus.WAITING.value, StepStatus.FAILED.value)
END, NOT_YET, CANCELLED = "end", "not_yet", "cancelled"


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


def journeys_in(query: ReportQuery) -> Select:
    """The funnel's journeys registered (created) in the range, through the origin if one is
    asked for; by the index on (funnel_id, created_at)."""
    return select(Journey.id, Journey.status).where(*registered_in(query))


def registered_in(query: ReportQuery) -> list[ColumnElement[bool]]:
    """The conditions on `journeys` of the report's range (and origin)."""
    conditions = [
        Journey.funnel_id == query.funnel_id,
        Journey.created_at >= query.since,
        Journey.created_at < query.until,
    ]
    if query.origin_id:
        conditions.append(Journey.origin_id == query.origin_id)
    return conditions


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
    by_status = _count_journeys(query, rows, activity_rows, now)
    _time_spent(query, activity_rows)
    return JourneyFunnel(
        journeys=sum(by_status.values()),
        by_status=by_status,
        stages=list(rows.values()),
        activities=list(activity_rows.values()),
        median_convert_seconds=_median_convert(query),
    )


def _steps_in(query: ReportQuery, *columns: Any, outer: bool = False) -> Select:
    """`columns` over the steps of the range's journeys, joined directly (not through a
    subquery) so that the journeys are read in the order of their (funnel_id, created_at)
    index."""
    return (
        select(*columns)
        .select_from(Journey)
        .join(JourneyStep, JourneyStep.journey_id == Journey.id, isouter=outer)
        .where(*registered_in(query))
    )


def _per_journey() -> tuple[Any, ...]:
    """What groups the steps of one journey together. SQLite groups without sorting when the
    key follows the index the journeys are read by: (created_at, rowid) is its order; on
    PostgreSQL a hash of the id does as well."""
    if db.engine.dialect.name == "sqlite":
        return (Journey.created_at, literal_column("journeys.rowid"))
    return (Journey.id,)


# A step's state in one small number: its status, whether it was reached (made due) and whether
# it is overdue, so that one column per activity says all the counts need.
STATUSES = [status.value for status in StepStatus]


def _step_code(overdue: ColumnElement[bool]) -> ColumnElement[int]:
    step = JourneyStep
    status = case({value: index for index, value in enumerate(STATUSES)}, value=step.status)
    reached = case((step.due_at.is_not(None), 2), else_=0)
    return status * 4 + reached + case((overdue, 1), else_=0)


def _count_journeys(
    query: ReportQuery,
    stages: dict[str, StageRow],
    activities: dict[str, ActivityRow],
    now: datetime,
) -> dict[str, int]:
    """One pass over the range's journeys and their steps. Per journey: its status; for each
    stage whether it has steps there, entered it (a step made due), has open steps there and
    skipped all of them; for each activity its step's code. Then how many journeys share each
    combination, from which every count is worked out here. Returns the journeys by status."""
    step = JourneyStep
    start_of_today = datetime.combine(now.date(), time(), now.tzinfo)
    overdue = step.status.in_(OPEN) & (step.due_at < start_of_today)
    columns: list[Any] = [func.max(Journey.status).label("journey_status")]
    for index, stage_id in enumerate(stages):
        here = step.stage_id == stage_id
        columns += [
            func.max(case((here, 1), else_=0)).label(f"has_{index}"),
            func.max(case((here & step.due_at.is_not(None), 1), else_=0)).label(f"in_{index}"),
            func.max(case((here & step.status.in_(OPEN), 1), else_=0)).label(f"open_{index}"),
            func.min(case((here & (step.status != StepStatus.SKIPPED.value), 0), else_=1)).label(
                f"skip_{index}"
            ),
        ]
    code = _step_code(overdue)
    for index, activity_id in enumerate(activities):
        columns.append(
            func.max(case((step.activity_id == activity_id, code), else_=-1)).label(f"a_{index}")
        )
    per_journey = _steps_in(query, *columns, outer=True).group_by(*_per_journey()).subquery()
    combos = select(*per_journey.c, func.count()).group_by(*per_journey.c)
    by_status = dict.fromkeys(JourneyStatus, 0)
    for journey_status, *values in db.session.execute(combos):
        count = values.pop()
        by_status[journey_status] = by_status.get(journey_status, 0) + count
        flags = values[: 4 * len(stages)]
        _add_stages(
            stages, [flags[i : i + 4] for i in range(0, len(flags), 4)], journey_status, count
        )
        for row, found in zip(activities.values(), values[4 * len(stages) :], strict=True):
            if found >= 0:
                _add_step(row, int(found), count)
    return by_status


def _add_stages(
    rows: dict[str, StageRow], flags: list[list[int]], journey_status: str, count: int
) -> None:
    order = list(rows)
    for index, (has, entered, is_open, all_skipped) in enumerate(flags):
        row = rows[order[index]]
        if not entered:
            row.skipped += count if has and all_skipped else 0
            continue
        row.entered += count
        if is_open:
            row.waiting += count
            continue
        row.completed += count
        later = [order[i] for i in range(index + 1, len(order)) if flags[i][1]]
        where = later[0] if later else _after_last(journey_status)
        row.next[where] = row.next.get(where, 0) + count


def _add_step(row: ActivityRow, code: int, count: int) -> None:
    status, reached, overdue = STATUSES[code // 4], bool(code & 2), bool(code & 1)
    row.reached += count if reached else 0
    row.overdue += count if overdue else 0
    if status == StepStatus.DONE:
        row.done += count
    elif status == StepStatus.SKIPPED:
        row.skipped += count if reached else 0
    elif status in OPEN:
        row.open += count


def _after_last(journey_status: str) -> str:
    if journey_status == JourneyStatus.COMPLETED:
        return END
    return CANCELLED if journey_status == JourneyStatus.CANCELLED else NOT_YET


def _time_spent(query: ReportQuery, rows: dict[str, ActivityRow]) -> None:
    """Median and 90th percentile of the time from due to done of each activity's done steps."""
    step = JourneyStep
    spent = seconds_between(step.due_at, step.done_at)
    # A staff task done before its due date took no time "from due to done": 0, not negative.
    spent = case((spent < 0, 0.0), else_=spent)
    done = _steps_in(query, step.activity_id, spent).where(
        step.status == StepStatus.DONE.value,
        step.due_at.is_not(None),
        step.done_at.is_not(None),
    )
    for activity_id, (median, p90) in percentiles(done).items():
        if activity_id in rows:
            rows[activity_id].median_seconds, rows[activity_id].p90_seconds = median, p90


def _median_convert(query: ReportQuery) -> float | None:
    """The median time from registration (the journey's creation) to its completion."""
    statement = journeys_in(query).where(Journey.status == JourneyStatus.COMPLETED.value)
    statement = statement.where(Journey.completed_at.is_not(None)).with_only_columns(
        Journey.funnel_id,
        seconds_between(Journey.created_at, Journey.completed_at),
    )
    found = percentiles(statement)
    return found[query.funnel_id][0] if found else None
