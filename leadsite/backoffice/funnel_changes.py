"""Service functions of the funnel editor: find, reorder, remove. They flush, never commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from leadsite.extensions import db
from leadsite.models import Activity, Funnel, Journey, JourneyStatus, JourneyStep, Origin, Stage

UP, DOWN = "up", "down"


def find_funnel(workspace_id: str, funnel_id: str, lock: bool = False) -> Funnel | None:
    """The workspace's funnel with this id; None for any other id (another workspace's too).

    `lock` takes its row for the transaction (PostgreSQL; SQLite has one writer anyway), so two
    editors adding or moving stages at once cannot give two of them the same position. FOR NO
    KEY UPDATE: registrations starting journeys in the funnel (a foreign key check) go on.
    """
    statement = select(Funnel).filter_by(id=funnel_id, workspace_id=workspace_id)
    return db.session.scalar(statement.with_for_update(key_share=True) if lock else statement)


def find_stage(funnel: Funnel, stage_id: str) -> Stage | None:
    """A stage of this funnel; None for a stage of any other funnel."""
    return db.session.scalar(select(Stage).filter_by(id=stage_id, funnel_id=funnel.id))


def find_activity(funnel: Funnel, activity_id: str) -> Activity | None:
    """An activity in one of this funnel's stages; None for any other id."""
    return db.session.scalar(
        select(Activity)
        .join(Activity.stage)
        .where(Activity.id == activity_id, Stage.funnel_id == funnel.id)
    )


def find_origin(funnel: Funnel, origin_id: str) -> Origin | None:
    """An origin of this funnel; None for any other id."""
    return db.session.scalar(
        select(Origin).filter_by(
            id=origin_id, funnel_id=funnel.id, workspace_id=funnel.workspace_id
        )
    )


def _renumber(items: list[Any]) -> None:
    """Positions 0..n-1 in list order: they stay contiguous whatever happened before."""
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position


def _move(items: list[Any], item: Any, direction: str) -> bool:
    """Swap `item` with its neighbour; False when it is already first (up) or last (down)."""
    index = items.index(item)
    other = index - 1 if direction == UP else index + 1
    if other < 0 or other >= len(items):
        return False
    items[index], items[other] = items[other], items[index]
    _renumber(items)
    db.session.flush()
    return True


def move_stage(stage: Stage, direction: str) -> bool:
    """Move a stage one place up or down in its funnel."""
    stages = sorted(stage.funnel.stages, key=lambda s: (s.position, s.id))
    return _move(stages, stage, direction)


def move_activity(activity: Activity, direction: str) -> bool:
    """Move an activity one place up or down in its stage."""
    activities = sorted(activity.stage.activities, key=lambda a: (a.position, a.id))
    return _move(activities, activity, direction)


def delete_stage(stage: Stage) -> None:
    """Remove a stage and its activities; the engine completes journeys that were in it."""
    funnel = stage.funnel
    # Steps keep their title and status, not their activity and stage: on PostgreSQL no
    # foreign key to stages clears the stage any more (0013_fk_checks), and the one to
    # activities (id, stage_id) finds a step by both columns, so both are cleared here. No
    # index on stage_id: one scan, as each foreign key's was.
    db.session.execute(
        update(JourneyStep)
        .where(JourneyStep.stage_id == stage.id)
        .values(activity_id=None, stage_id=None)
    )
    funnel.stages.remove(stage)
    _renumber(sorted(funnel.stages, key=lambda s: (s.position, s.id)))
    db.session.flush()


def delete_activity(activity: Activity) -> None:
    """Remove an activity; steps already generated from it keep their title and status."""
    stage = activity.stage
    stage.activities.remove(activity)
    _renumber(sorted(stage.activities, key=lambda a: (a.position, a.id)))
    db.session.flush()


def journeys_in_stage(stage: Stage) -> int:
    """How many active journeys are in this stage now."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Journey)
            .filter_by(current_stage_id=stage.id, status=JourneyStatus.ACTIVE)
        )
        or 0
    )


def set_origin_active(origin: Origin, active: bool) -> None:
    """Open or close an origin: a closed one registers nobody (the pipeline answers 404)."""
    origin.active = active
    db.session.flush()
