"""Generate a lead's journey through a funnel: one step per activity, the first stage due now."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import (
    Activity,
    Funnel,
    Journey,
    JourneyStatus,
    JourneyStep,
    Lead,
    Origin,
    Stage,
    StepStatus,
    utcnow,
)

ACCESS_TOKEN_LIFETIME = timedelta(days=7)


def new_access_token() -> tuple[str, datetime]:
    """A fresh token for the lead's page `/j/<token>` and the time it stops working."""
    return secrets.token_urlsafe(32), utcnow() + ACCESS_TOKEN_LIFETIME


@dataclass(frozen=True)
class ActivityPlan:
    id: str
    kind: str
    title: str
    assignee_id: str | None


@dataclass(frozen=True)
class StagePlan:
    id: str
    delay_minutes: int
    activities: tuple[ActivityPlan, ...]


def funnel_plan(funnel_id: str) -> list[StagePlan]:
    """The funnel's stages and activities in order, read in one query (no ORM objects: this
    runs on every registration)."""
    rows = db.session.execute(
        db.select(
            Stage.id,
            Stage.delay_minutes,
            Activity.id,
            Activity.kind,
            Activity.title,
            Activity.assignee_id,
        )
        .outerjoin(Activity, Activity.stage_id == Stage.id)
        .where(Stage.funnel_id == funnel_id)
        .order_by(Stage.position, Stage.id, Activity.position, Activity.id)
    )
    stages: dict[str, tuple[int, list[ActivityPlan]]] = {}
    for stage_id, delay, activity_id, kind, title, assignee_id in rows:
        _, activities = stages.setdefault(stage_id, (delay or 0, []))
        if activity_id is not None:
            activities.append(ActivityPlan(activity_id, kind, title, assignee_id))
    return [StagePlan(sid, delay, tuple(acts)) for sid, (delay, acts) in stages.items()]


def start_journey(
    lead: Lead, funnel: Funnel, origin: Origin | None, plan: list[StagePlan] | None = None
) -> Journey:
    """Create the lead's journey in `funnel` with a step per activity.

    Every step starts pending and the journey in no stage: `engine.enter_first_stage` then
    enters the first stage whose condition holds. Flushes; never commits.
    """
    stages = funnel_plan(funnel.id) if plan is None else plan
    token, valid_until = new_access_token()
    journey = Journey(
        id=new_id("jrn"),
        workspace_id=lead.workspace_id,
        lead_id=lead.id,
        funnel_id=funnel.id,
        origin_id=origin.id if origin else None,
        status=JourneyStatus.ACTIVE,
        access_token=token,
        valid_until=valid_until,
    )
    db.session.add(journey)
    db.session.flush()
    now = utcnow()
    steps = []
    for stage in stages:
        for activity in stage.activities:
            steps.append(
                {
                    "id": new_id("step"),
                    "journey_id": journey.id,
                    "activity_id": activity.id,
                    "stage_id": stage.id,
                    "position": len(steps),
                    "kind": activity.kind,
                    "title": activity.title,
                    "assignee_id": activity.assignee_id,
                    "status": StepStatus.PENDING,
                    "due_at": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if steps:
        # A bulk INSERT: no unit-of-work bookkeeping for rows nothing else reads here.
        db.session.execute(db.insert(JourneyStep), steps)
    return journey
