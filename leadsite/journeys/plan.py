"""A funnel's stages and activities as plain values, read in one query.

Generating a journey and moving it between stages both need the funnel's whole shape; reading
it as frozen dataclasses from one joined query (no ORM objects, no second query for the
activities) keeps that cheap on every registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadsite.extensions import db
from leadsite.models import Activity, JourneyStep, Stage, StepStatus
from leadsite.models.base import made


@dataclass(frozen=True)
class ActivityPlan:
    id: str
    kind: str
    title: str
    assignee_id: str | None
    config: dict[str, Any]


@dataclass(frozen=True)
class StagePlan:
    id: str
    name: str
    position: int
    condition: dict[str, Any] | None
    delay_minutes: int
    activities: tuple[ActivityPlan, ...]
    # Where the journey goes when the stage is finished (see `journeys.decisions`).
    decisions: tuple[dict[str, Any], ...] = ()
    otherwise: str | None = None


# Built once, as Core (table columns, plain rows back): this runs on every registration, and
# building the statement or loading ORM rows costs more than running it.
_stages, _activities = Stage.__table__.c, Activity.__table__.c
PLAN_QUERY = (
    db.select(
        _stages.id,
        _stages.name,
        _stages.position,
        _stages.condition,
        _stages.delay_minutes,
        _stages.decisions,
        _stages.otherwise,
        _activities.id,
        _activities.kind,
        _activities.title,
        _activities.assignee_id,
        _activities.config,
    )
    .select_from(Stage.__table__.outerjoin(Activity.__table__, _activities.stage_id == _stages.id))
    .where(_stages.funnel_id == db.bindparam("funnel_id"))
    .order_by(_stages.position, _stages.id, _activities.position, _activities.id)
)


def funnel_plan(funnel_id: str) -> list[StagePlan]:
    """The funnel's stages in order, each with its activities in order."""
    rows = db.session.execute(PLAN_QUERY, {"funnel_id": funnel_id})
    stages: dict[str, tuple[tuple[Any, ...], list[ActivityPlan]]] = {}
    for stage_id, name, position, condition, delay, decisions, otherwise, *activity in rows:
        _, activities = stages.setdefault(
            stage_id,
            ((name, position or 0, condition, delay or 0, tuple(decisions or ()), otherwise), []),
        )
        if activity[0] is not None:
            activity_id, kind, title, assignee_id, config = activity
            activities.append(ActivityPlan(activity_id, kind, title, assignee_id, config or {}))
    return [
        StagePlan(
            stage_id, *fields[:4], tuple(activities), decisions=fields[4], otherwise=fields[5]
        )
        for stage_id, (fields, activities) in stages.items()
    ]


def pending_step(
    journey_id: str, stage: StagePlan, activity: ActivityPlan, position: int
) -> JourneyStep:
    """A new journey step for one of the stage's activities, waiting for its stage."""
    return made(
        JourneyStep,
        journey_id=journey_id,
        stage_id=stage.id,
        activity_id=activity.id,
        position=position,
        kind=activity.kind,
        title=activity.title,
        assignee_id=activity.assignee_id,
        status=StepStatus.PENDING,
    )
