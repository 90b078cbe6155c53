"""Keeping the journey rollup (`journey_counts`, `journey_durations`) exact in the transaction
of every change to a journey or its steps.

What one journey counts for is a pure function of its state (`rollup.contribution`). The
session remembers the state each journey it changes had when the transaction first touched it
(read from the database at its first flush, before that flush writes; nothing for a journey
written new, by the ORM or `NewRows`); at commit it flushes, works out each such journey's
contribution before and after, and upserts the difference (`n = n + excluded.n`) as the
transaction's last writes, in key order, so that two transactions lock rollup rows in the same
order and after their lead and journey (`engine.lock_journey`'s order). Whatever path changes a
journey through the ORM (the engine, the registration, staff edits, tests) keeps the rollup
exact; a Core UPDATE of journeys or steps would not (none exists).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import TextClause, bindparam, delete, event, insert, inspect, select, text
from sqlalchemy.orm import Session, SessionTransaction

from leadsite.analytics.rollup import (
    CountKey,
    JourneyState,
    Shape,
    contribution,
    journey_state,
    shape,
    stored_states,
)
from leadsite.models import Journey, JourneyCount, JourneyDuration, JourneyStep, Stage
from leadsite.models.rows import NewRows

TRACKED = "leadsite.rollup_tracked"  # session.info: journey id -> its state at first touch
OBJECTS = "leadsite.rollup_objects"  # session.info: journey id -> the journey object
EMPTY_STAGES = "_rollup_empty_stages"  # on a journey: stages without activities it entered


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
    journeys = [obj for obj in objects if isinstance(obj, Journey)]
    if not journeys:
        return
    known, tracked = session.info.setdefault(OBJECTS, {}), _tracked(session)
    for journey in journeys:
        known[journey.id] = journey
        tracked.setdefault(journey.id, None)


NewRows.after_write.append(_written)


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
    """A rolled-back transaction's journeys forget what it counted, empty stages included (a
    registration retried after a rollback enters them again)."""
    if transaction.parent is None:
        session.info.pop(TRACKED, None)
        for journey in (session.info.pop(OBJECTS, None) or {}).values():
            journey.__dict__.pop(EMPTY_STAGES, None)


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
    differences, upserted in key order, and the changed times spent.

    Each shape's contribution is worked out once (`rollup.shape`): the net number of journeys
    that left or took each shape, times its counts, is the counts' difference."""
    states = [state for pair in changes for state in pair if state is not None]
    orders = stage_orders(session, {state.funnel_id for state in states})
    counted: dict[Shape, tuple[Counter[CountKey], dict[str, tuple[float, int]]]] = {}
    shapes: Counter[Shape] = Counter()
    workspaces: dict[str, str] = {}

    def durations_of(state: JourneyState, sign: int) -> dict[str, tuple[float, int]]:
        key = shape(state)
        found = counted.get(key)
        if found is None:
            found = counted[key] = contribution(state, orders[state.funnel_id])
        shapes[key] += sign
        workspaces[state.funnel_id] = state.workspace_id
        return found[1]

    durations_out: list[tuple[str, str]] = []
    durations_in: list[dict[str, Any]] = []
    for before, after in changes:
        old_durations = {} if before is None else durations_of(before, -1)
        new_durations = {} if after is None else durations_of(after, 1)
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
    deltas: Counter[CountKey] = Counter()
    for key, times in shapes.items():
        if times:
            for count_key, n in counted[key][0].items():
                deltas[count_key] += n * times
    for (workspace_id, key), n in (extra or {}).items():
        deltas[key] += n
        workspaces[key[0]] = workspace_id
    rows = count_rows(deltas, workspaces)
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


def count_rows(counts: Any, workspaces: dict[str, str]) -> list[dict[str, Any]]:
    """`journey_counts` rows of the non-zero counts by key (funnel, day, origin, metric, item,
    bucket), in key order (the order their row locks are taken in)."""
    return [
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
        for key, n in sorted(counts.items())
        if n
    ]


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
