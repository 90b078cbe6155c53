"""The journey rollup's counting: what one journey counts for in `journey_counts` and
`journey_durations` (`contribution`), and journeys' states, in memory or as stored.
`rollup_session` keeps the tables exact in each transaction; `rollup_backfill` fills them once.

Overdue steps depend on the day the report is read: open steps are counted by their due day,
and the report sums the days before today. Times spent are counted in log buckets (eight per
doubling); the report finds the bucket of each percentile's rank there and reads the exact
values of that bucket alone from `journey_durations`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from leadsite.models import (
    Journey,
    JourneyStatus,
    JourneyStep,
    StepStatus,
)

OPEN = (StepStatus.DUE.value, StepStatus.WAITING.value, StepStatus.FAILED.value)
END, NOT_YET, CANCELLED = "end", "not_yet", "cancelled"
CONVERT = ""  # the activity id of a journey's time to convert in `journey_durations`
BUCKETS_PER_DOUBLING = 8
MAX_ITEM = 255

# Attribution: (report key, journey column), as `attribution.DIMENSIONS` orders them.
ATTRIBUTED = (
    ("origin", "origin_id"),
    ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"),
    ("utm_campaign", "utm_campaign"),
    ("last_utm_source", "last_utm_source"),
    ("last_utm_medium", "last_utm_medium"),
    ("last_utm_campaign", "last_utm_campaign"),
    ("referrer_host", "referrer_host"),
    ("last_referrer_host", "last_referrer_host"),
    ("share_code", "share_code"),
)
JOURNEY_FIELDS = (
    "id",
    "workspace_id",
    "funnel_id",
    "created_at",
    "status",
    "completed_at",
    *(column for _, column in ATTRIBUTED),
)
STEP_FIELDS = ("activity_id", "stage_id", "status", "due_at", "done_at")


CountKey = tuple[str, date, str, str, str, int]  # funnel, day, origin, metric, item, bucket


@dataclass(frozen=True)
class StepState:
    activity_id: str | None
    stage_id: str | None
    status: str
    due_at: datetime | None
    done_at: datetime | None


@dataclass(frozen=True)
class JourneyState:
    id: str
    workspace_id: str
    funnel_id: str
    created_at: datetime
    status: str
    completed_at: datetime | None
    attributed: tuple[str, ...]  # the ATTRIBUTED columns, '' for none
    steps: tuple[StepState, ...]

    @property
    def origin_id(self) -> str:
        return self.attributed[0]

    @property
    def day(self) -> date:
        return self.created_at.date()


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration: 0 under a second, then eight per doubling."""
    if seconds < 1:
        return 0
    return 1 + int(math.log2(seconds) * BUCKETS_PER_DOUBLING)


def _status(value: Any) -> str:
    return str(getattr(value, "value", value))


def contribution(
    journey: JourneyState, stage_order: list[str]
) -> tuple[Counter[CountKey], dict[str, tuple[float, int]]]:
    """What `journey` counts for in `journey_counts` (by key), and its times spent by activity
    (`CONVERT` for its conversion) with their buckets. The same rules as the report's former
    reading of steps: a stage was entered when one of its steps was made due; passed over, when
    all its steps were skipped without being due."""
    counts: Counter[tuple[str, str, int]] = Counter()
    status = journey.status
    counts["status", status, 0] += 1
    steps = journey.steps
    entered = {s.stage_id for s in steps if s.stage_id is not None and s.due_at is not None}
    for index, stage_id in enumerate(stage_order):
        here = [s for s in steps if s.stage_id == stage_id]
        if stage_id not in entered:
            if here and all(s.status == StepStatus.SKIPPED for s in here):
                counts["stage_skipped", stage_id, 0] += 1
            continue
        counts["stage_entered", stage_id, 0] += 1
        if any(s.status in OPEN for s in here):
            counts["stage_waiting", stage_id, 0] += 1
            continue
        counts["stage_completed", stage_id, 0] += 1
        later = [s for s in stage_order[index + 1 :] if s in entered]
        where = later[0] if later else after_last(status)
        counts["stage_next", f"{stage_id}>{where}", 0] += 1
    durations: dict[str, tuple[float, int]] = {}
    for step in steps:
        if step.activity_id is None:
            continue
        activity, reached = step.activity_id, step.due_at is not None
        counts["step_reached", activity, 0] += reached
        if step.status == StepStatus.DONE:
            counts["step_done", activity, 0] += 1
            if step.due_at is not None and step.done_at is not None:
                # A staff task done before its due date took no time "from due to done".
                spent = max((step.done_at - step.due_at).total_seconds(), 0.0)
                durations[activity] = (spent, bucket_of(spent))
                counts["step_spent", activity, bucket_of(spent)] += 1
        elif step.status == StepStatus.SKIPPED:
            counts["step_skipped", activity, 0] += reached
        elif step.status in OPEN:
            counts["step_open", activity, 0] += 1
            if step.due_at is not None:
                counts["step_open_due", activity, step.due_at.date().toordinal()] += 1
    converted = status == JourneyStatus.COMPLETED
    if converted and journey.completed_at is not None:
        seconds = (journey.completed_at - journey.created_at).total_seconds()
        durations[CONVERT] = (seconds, bucket_of(seconds))
        counts["convert", "", bucket_of(seconds)] += 1
    for (key, _), value in zip(ATTRIBUTED, journey.attributed, strict=True):
        counts[f"attr_{key}", value[:MAX_ITEM], 0] += 1
        counts[f"attr_{key}", value[:MAX_ITEM], 1] += converted
    prefix = (journey.funnel_id, journey.day, journey.origin_id)
    keyed = Counter({(*prefix, *key): n for key, n in counts.items() if n})
    return keyed, durations


def after_last(journey_status: str) -> str:
    if journey_status == JourneyStatus.COMPLETED:
        return END
    return CANCELLED if journey_status == JourneyStatus.CANCELLED else NOT_YET


# Reading a journey's state: in memory, or as stored.


def journey_state(journey: Journey) -> JourneyState:
    """The journey's state as it is in memory."""
    values = {name: getattr(journey, name) for name in JOURNEY_FIELDS}
    return JourneyState(
        id=values["id"],
        workspace_id=values["workspace_id"],
        funnel_id=values["funnel_id"],
        created_at=values["created_at"],
        status=_status(values["status"]),
        completed_at=values["completed_at"],
        attributed=tuple(values[column] or "" for _, column in ATTRIBUTED),
        steps=tuple(
            StepState(
                step.activity_id, step.stage_id, _status(step.status), step.due_at, step.done_at
            )
            for step in journey.steps
        ),
    )


def stored_states(connection: Any, where: Any, limit: int | None = None) -> list[JourneyState]:
    """The states of the journeys `where` selects (a condition on `journeys`), as stored, in
    the order of their ids (at most `limit`)."""
    table = Journey.__table__.c
    statement = select(*(table[name] for name in JOURNEY_FIELDS)).where(where).order_by(table.id)
    journeys = connection.execute(statement.limit(limit)).all()
    steps: dict[str, list[StepState]] = {row[0]: [] for row in journeys}
    if not steps:
        return []
    step = JourneyStep.__table__.c
    for row in connection.execute(
        select(step.journey_id, *(step[name] for name in STEP_FIELDS))
        .where(step.journey_id.in_(list(steps)))
        .order_by(step.journey_id, step.position)
    ):
        steps[row[0]].append(StepState(*row[1:]))
    return [
        JourneyState(
            id=row[0],
            workspace_id=row[1],
            funnel_id=row[2],
            created_at=row[3],
            status=_status(row[4]),
            completed_at=row[5],
            attributed=tuple(value or "" for value in row[6:]),
            steps=tuple(steps[row[0]]),
        )
        for row in journeys
    ]
