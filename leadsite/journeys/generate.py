"""Generate a lead's journey through a funnel: one step per activity, the first stage due now."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import selectinload

from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import (
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


def start_journey(lead: Lead, funnel: Funnel, origin: Origin | None) -> Journey:
    """Create the lead's journey in `funnel` with a step per activity.

    The first stage's steps are due at once (after the stage's delay); later stages' steps stay
    pending until the engine enters them. Load the funnel with its stages and activities
    (`funnel_with_activities`) to generate in one pass. Flushes; never commits.
    """
    token, valid_until = new_access_token()
    stages = funnel.stages
    journey = Journey(
        id=new_id("jrn"),
        workspace_id=lead.workspace_id,
        lead_id=lead.id,
        funnel_id=funnel.id,
        origin_id=origin.id if origin else None,
        status=JourneyStatus.ACTIVE,
        current_stage_id=stages[0].id if stages else None,
        access_token=token,
        valid_until=valid_until,
    )
    db.session.add(journey)
    now = utcnow()
    steps = []
    for index, stage in enumerate(stages):
        first = index == 0
        for activity in stage.activities:
            steps.append(
                JourneyStep(
                    journey_id=journey.id,
                    activity_id=activity.id,
                    stage_id=stage.id,
                    position=len(steps),
                    kind=activity.kind,
                    title=activity.title,
                    assignee_id=activity.assignee_id,
                    status=StepStatus.DUE if first else StepStatus.PENDING,
                    due_at=now + timedelta(minutes=stage.delay_minutes) if first else None,
                )
            )
    db.session.add_all(steps)
    db.session.flush()
    return journey


def funnel_with_activities(funnel_id: str) -> Funnel | None:
    """The funnel with its stages and their activities loaded in two queries."""
    return db.session.scalar(
        db.select(Funnel)
        .filter_by(id=funnel_id)
        .options(selectinload(Funnel.stages).selectinload(Stage.activities))
    )
