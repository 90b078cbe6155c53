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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm.base import instance_state

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


CountKey = tuple[str, date, str, str, str, int]  # funnel, day, origin, metric, item, bucket
Shape = tuple[Any, ...]  # what `contribution` reads of a journey (`shape`)


class StepState(NamedTuple):  # a tuple: made five times a journey, a dataclass cost 1 us each
    activity_id: str | None
    stage_id: str | None
    status: str
    due_at: datetime | None
    done_at: datetime | None


STEP_FIELDS = StepState._fields


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


# Statuses as text, by member and by text: a lookup, where the enum's `value` took as long as
# reading the rest of a step.
_STATUS_TEXT = {
    key: str(status.value)
    for kind in (JourneyStatus, StepStatus)
    for status in kind
    for key in (status, str(status.value))
}


def _status(value: Any) -> str:
    text = _STATUS_TEXT.get(value)
    return str(getattr(value, "value", value)) if text is None else text


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


def shape(journey: JourneyState) -> Shape:
    """What `contribution` reads of `journey`, its times reduced to what it makes of them: the
    days (registration, open steps' due days) and the differences it measures (done - due,
    completed - created). Journeys of one shape count the same and spend the same times: the
    500 new journeys of an import's chunk have a few shapes. Change it with `contribution`."""
    created = journey.created_at
    completed = journey.completed_at
    return (
        journey.workspace_id,
        journey.funnel_id,
        created.date(),
        journey.status,
        None if completed is None else completed - created,
        journey.attributed,
        tuple(
            (
                step.activity_id,
                step.stage_id,
                step.status,
                None if step.due_at is None else step.due_at.date(),
                None if step.due_at is None or step.done_at is None else step.done_at - step.due_at,
            )
            for step in journey.steps
        ),
    )


def after_last(journey_status: str) -> str:
    if journey_status == JourneyStatus.COMPLETED:
        return END
    return CANCELLED if journey_status == JourneyStatus.CANCELLED else NOT_YET


# Reading a journey's state: in memory, or as stored.


def journey_state(journey: Journey) -> JourneyState:
    """The journey's state as it is in memory."""
    steps = journey.__dict__.get("steps")
    return _state(
        _values(journey, JOURNEY_FIELDS),
        tuple([_step_state(step) for step in (journey.steps if steps is None else steps)]),
    )


def _state(values: Sequence[Any], steps: tuple[StepState, ...]) -> JourneyState:
    """A journey's state from its `JOURNEY_FIELDS` values, in that order, and its steps'."""
    return JourneyState(
        id=values[0],
        workspace_id=values[1],
        funnel_id=values[2],
        created_at=values[3],
        status=_status(values[4]),
        completed_at=values[5],
        attributed=tuple(value or "" for value in values[6:]),
        steps=steps,
    )


def _step_state(step: JourneyStep) -> StepState:
    values = _values(step, STEP_FIELDS)
    values[2] = _status(values[2])
    return StepState._make(values)


def _values(obj: Any, names: tuple[str, ...]) -> list[Any]:
    """The column attributes `names` of `obj`, read from its `__dict__` (a commit of an import's
    chunk reads 20 of each of its 500 journeys and their steps: through the attributes, that
    was most of the rollup's time). What it lacks is None on an object never loaded (what the
    attribute would read); on one loaded, the attribute loads it."""
    values = obj.__dict__
    if instance_state(obj).key is None:
        return list(map(values.get, names))
    return [values[name] if name in values else getattr(obj, name) for name in names]


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
    return [_state(row, tuple(steps[row[0]])) for row in journeys]
