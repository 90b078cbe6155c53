"""The journey funnel's rollup (`journey_counts`, `journey_durations`), kept exact in the
transaction of every change to a journey or its steps.

What one journey counts for is a pure function of its state (`contribution`). The session
remembers the state each journey it changes had when the transaction first touched it (from
the ORM's attribute history at its first flush, or nothing for a journey written new, by the
ORM or `NewRows`); at commit it flushes, works out each such journey's contribution before and
after, and upserts the difference (`n = n + excluded.n`) as the transaction's last writes, in
key order, so that two transactions lock rollup rows in the same order and after their lead and
journey (`engine.lock_journey`'s order). Whatever path changes a journey through the ORM (the
engine, the registration, staff edits, tests) keeps the rollup exact; a Core UPDATE of
journeys or steps would not (none exists).

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

from sqlalchemy import TextClause, bindparam, delete, event, insert, inspect, select, text
from sqlalchemy.orm import Session, SessionTransaction

from leadsite.models import (
    Journey,
    JourneyCount,
    JourneyDuration,
    JourneyStatus,
    JourneyStep,
    Stage,
    StepStatus,
)
from leadsite.models import rows as new_rows

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

TRACKED = "leadsite.rollup_tracked"  # session.info: journey id -> its state at first touch
OBJECTS = "leadsite.rollup_objects"  # session.info: journey id -> the journey object
EMPTY_STAGES = "_rollup_empty_stages"  # on a journey: stages without activities it entered

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


# The session's bookkeeping.


def _tracked(session: Session) -> dict[str, JourneyState | None]:
    return session.info.setdefault(TRACKED, {})


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Remember the stored state of each journey this flush changes first in the transaction
    (read before the flush writes), or that it is new."""
    tracked = _tracked(session)
    objects = session.info.setdefault(OBJECTS, {})
    stored: dict[str, Journey] = {}
    with session.no_autoflush:
        for obj in [*session.new, *session.dirty, *session.deleted]:
            if isinstance(obj, JourneyStep):
                obj = obj.journey
            if not isinstance(obj, Journey) or obj.id is None:
                continue
            objects[obj.id] = obj
            if obj.id in tracked:
                continue
            if inspect(obj).has_identity:
                stored[obj.id] = obj
            else:
                tracked[obj.id] = None
        if stored:
            ids = sorted(stored)
            found = {
                state.id: state
                for state in stored_states(session.connection(), Journey.__table__.c.id.in_(ids))
            }
            for journey_id in ids:
                tracked[journey_id] = found.get(journey_id)


def _written(session: Session, objects: list[Any]) -> None:
    """`NewRows` wrote these objects: its journeys are new to the rollup."""
    for obj in objects:
        if isinstance(obj, Journey):
            session.info.setdefault(OBJECTS, {})[obj.id] = obj
            _tracked(session).setdefault(obj.id, None)


new_rows.ON_WRITE.append(_written)


def note_empty_stage(journey: Journey, stage_id: str) -> None:
    """The journey entered (and at once left) a stage with no activities: no step says so, so
    the journey object carries it to its commit, which counts it as entered and completed."""
    journey.__dict__.setdefault(EMPTY_STAGES, []).append(stage_id)


def _empty_stages(journey: Journey, extra: Counter[tuple[str, CountKey]]) -> None:
    stages = journey.__dict__.pop(EMPTY_STAGES, None)
    if not stages or journey.created_at is None:
        return
    key = (journey.funnel_id, journey.created_at.date(), journey.origin_id or "")
    for stage_id in stages:
        extra[journey.workspace_id, (*key, "stage_entered", stage_id, 0)] += 1
        extra[journey.workspace_id, (*key, "stage_completed", stage_id, 0)] += 1


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # what the commit would flush next: its changes are tracked so
    if not session.info.get(TRACKED):
        return
    tracked: dict[str, JourneyState | None] = session.info.pop(TRACKED, {})
    objects: dict[str, Journey] = session.info.pop(OBJECTS, {})
    extra: Counter[tuple[str, CountKey]] = Counter()
    for journey in objects.values():
        _empty_stages(journey, extra)
    apply_changes(session, [(tracked[i], _current(objects[i])) for i in tracked], extra)


def _current(journey: Journey) -> JourneyState | None:
    state = inspect(journey)
    if state.deleted or state.was_deleted:
        return None
    return journey_state(journey)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        for key in (TRACKED, OBJECTS):
            session.info.pop(key, None)


def stage_orders(session: Session, funnel_ids: set[str]) -> dict[str, list[str]]:
    orders: dict[str, list[str]] = {funnel_id: [] for funnel_id in funnel_ids}
    if funnel_ids:
        rows = session.connection().execute(_STAGE_ORDER, {"funnels": sorted(funnel_ids)})
        for funnel_id, stage_id in rows:
            orders[funnel_id].append(stage_id)
    return orders


# Built once: a statement made anew for each commit costs more to construct and compile (a
# few ms) than to run.
_STAGES = Stage.__table__.c
_STAGE_ORDER = (
    select(_STAGES.funnel_id, _STAGES.id)
    .where(_STAGES.funnel_id.in_(bindparam("funnels", expanding=True)))
    .order_by(_STAGES.funnel_id, _STAGES.position, _STAGES.id)
)
_INSERT_DURATIONS = insert(JourneyDuration)


def apply_changes(
    session: Session,
    changes: list[tuple[JourneyState | None, JourneyState | None]],
    extra: Counter[tuple[str, CountKey]] | None = None,
) -> None:
    """Write what changed between each (before, after) pair of journey states: the counts'
    differences, upserted in key order, and the changed times spent."""
    states = [state for pair in changes for state in pair if state is not None]
    orders = stage_orders(session, {state.funnel_id for state in states})
    deltas: Counter[CountKey] = Counter()
    workspaces: dict[str, str] = {}
    durations_out: list[tuple[str, str]] = []
    durations_in: list[dict[str, Any]] = []
    for before, after in changes:
        old_durations: dict[str, tuple[float, int]] = {}
        new_durations: dict[str, tuple[float, int]] = {}
        if before is not None:
            counts, old_durations = contribution(before, orders[before.funnel_id])
            deltas.subtract(counts)
            workspaces[before.funnel_id] = before.workspace_id
        if after is not None:
            counts, new_durations = contribution(after, orders[after.funnel_id])
            deltas.update(counts)
            workspaces[after.funnel_id] = after.workspace_id
        journey_id = (before or after).id  # type: ignore[union-attr]
        same_place = (
            before is not None
            and after is not None
            and (before.funnel_id, before.day, before.origin_id)
            == (after.funnel_id, after.day, after.origin_id)
        )
        for activity_id in sorted(set(old_durations) | set(new_durations)):
            found = new_durations.get(activity_id)
            if same_place and old_durations.get(activity_id) == found:
                continue
            if activity_id in old_durations:
                durations_out.append((journey_id, activity_id))
            if found is not None and after is not None:
                durations_in.append(
                    {
                        "journey_id": journey_id,
                        "activity_id": activity_id,
                        "funnel_id": after.funnel_id,
                        "origin_id": after.origin_id,
                        "day": after.day,
                        "bucket": found[1],
                        "seconds": found[0],
                    }
                )
    for (workspace_id, key), n in (extra or {}).items():
        deltas[key] += n
        workspaces[key[0]] = workspace_id
    rows = [
        {
            "funnel_id": key[0],
            "day": key[1],
            "origin_id": key[2],
            "metric": key[3],
            "item": key[4],
            "bucket": key[5],
            "workspace_id": workspaces[key[0]],
            "n": n,
        }
        for key, n in sorted(deltas.items())
        if n
    ]
    connection = session.connection()
    for journey_id, activity_id in sorted(durations_out):
        connection.execute(
            delete(JourneyDuration).where(
                JourneyDuration.journey_id == journey_id,
                JourneyDuration.activity_id == activity_id,
            )
        )
    if durations_in:
        connection.execute(_INSERT_DURATIONS, durations_in)
    if rows:
        upsert_counts(connection, rows)


def upsert_counts(connection: Any, rows: list[dict[str, Any]]) -> None:
    """Add `rows`' `n` to the stored counts (`INSERT ... ON CONFLICT DO UPDATE`)."""
    connection.execute(_UPSERT, rows)


def _upsert_sql() -> TextClause:
    """The upsert as text, the same on SQLite and PostgreSQL: SQLAlchemy compiles its
    `on_conflict_do_update` construct anew at each execution (no cache hit), which cost more
    than the upsert itself."""
    table = JourneyCount.__table__
    names = [column.name for column in table.columns]
    key = ", ".join(column.name for column in table.primary_key.columns)
    return text(
        f"INSERT INTO journey_counts ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + name for name in names)}) "
        f"ON CONFLICT ({key}) DO UPDATE SET n = journey_counts.n + excluded.n"
    ).bindparams(*(bindparam(column.name, type_=column.type) for column in table.columns))


_UPSERT = _upsert_sql()
