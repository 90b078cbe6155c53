"""Building the journey rollup from the journeys already stored: what migration 0009_rollup
runs once, and what `bench/analytics.py` runs after seeding. The same `contribution` the
sessions use counts each journey, so the two cannot disagree."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from leadsite.analytics.rollup import CountKey, contribution, stored_states
from leadsite.analytics.rollup_session import count_rows, upsert_counts
from leadsite.models import (
    Activity,
    Event,
    Journey,
    JourneyCount,
    JourneyDuration,
    Stage,
)
from leadsite.outbox import event_types

CHUNK = 5000


def backfill(connection: Connection, chunk: int = CHUNK) -> int:
    """Recount `journey_counts` and `journey_durations` from every journey; returns how many
    journeys were counted."""
    connection.execute(delete(JourneyCount))
    connection.execute(delete(JourneyDuration))
    orders: dict[str, list[str]] = {}
    for funnel_id, stage_id in connection.execute(
        select(Stage.funnel_id, Stage.id).order_by(Stage.funnel_id, Stage.position, Stage.id)
    ):
        orders.setdefault(funnel_id, []).append(stage_id)
    counts: Counter[CountKey] = Counter()
    workspaces: dict[str, str] = {}
    last_id, total = "", 0
    while batch := stored_states(connection, Journey.__table__.c.id > last_id, chunk):
        last_id = batch[-1].id
        durations: list[dict[str, Any]] = []
        for state in batch:
            found, spent = contribution(state, orders.get(state.funnel_id, []))
            counts.update(found)
            workspaces[state.funnel_id] = state.workspace_id
            durations += [
                {
                    "journey_id": state.id,
                    "activity_id": activity_id,
                    "funnel_id": state.funnel_id,
                    "origin_id": state.origin_id,
                    "day": state.day,
                    "bucket": bucket,
                    "seconds": seconds,
                }
                for activity_id, (seconds, bucket) in spent.items()
            ]
        if durations:
            connection.execute(insert(JourneyDuration), durations)
        total += len(batch)
    _empty_stages(connection, counts, workspaces)
    rows = count_rows(counts, workspaces)
    for start in range(0, len(rows), chunk):
        upsert_counts(connection, rows[start : start + chunk])
    return total


def _empty_stages(
    connection: Connection, counts: Counter[CountKey], workspaces: dict[str, str]
) -> None:
    """Stages with no activities leave no steps: the journeys' "stage entered" events say who
    entered them."""
    with_activities = select(Activity.stage_id)
    empty = {
        stage_id: funnel_id
        for stage_id, funnel_id in connection.execute(
            select(Stage.id, Stage.funnel_id).where(Stage.id.not_in(with_activities))
        )
    }
    if not empty:
        return
    journeys = Journey.__table__.c
    rows = connection.execute(
        select(
            Event.payload,
            journeys.workspace_id,
            journeys.funnel_id,
            journeys.created_at,
            journeys.origin_id,
        )
        .join(Journey, Journey.id == Event.journey_id)
        .where(
            Event.type == event_types.JOURNEY_STAGE_ENTERED,
            journeys.funnel_id.in_(sorted(set(empty.values()))),
        )
    )
    for payload, workspace_id, funnel_id, created_at, origin_id in rows:
        stage_id = ((payload or {}).get("stage") or {}).get("id")
        if stage_id not in empty:
            continue
        key = (funnel_id, created_at.date(), origin_id or "")
        counts[(*key, "stage_entered", stage_id, 0)] += 1
        counts[(*key, "stage_completed", stage_id, 0)] += 1
        workspaces[funnel_id] = workspace_id
