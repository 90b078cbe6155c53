"""Generate a lead's journey through a funnel: one step per activity, the first stage due now."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from leadsite.extensions import db
from leadsite.models import (
    Funnel,
    Journey,
    JourneyStatus,
    JourneyStep,
    Lead,
    Origin,
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
    pending until the engine enters them. Flushes; never commits.
    """
    token, valid_until = new_access_token()
    journey = Journey(
        workspace_id=lead.workspace_id,
        lead_id=lead.id,
        funnel_id=funnel.id,
        origin_id=origin.id if origin else None,
        status=JourneyStatus.ACTIVE,
        access_token=token,
        valid_until=valid_until,
    )
    db.session.add(journey)
    now = utcnow()
    position = 0
    for index, stage in enumerate(funnel.stages):
        for activity in stage.activities:
            first = index == 0
            journey.steps.append(
                JourneyStep(
                    activity=activity,
                    stage_id=stage.id,
                    position=position,
                    kind=activity.kind,
                    title=activity.title,
                    assignee_id=activity.assignee_id,
                    status=StepStatus.DUE if first else StepStatus.PENDING,
                    due_at=now + timedelta(minutes=stage.delay_minutes) if first else None,
                )
            )
            position += 1
    if funnel.stages:
        journey.current_stage_id = funnel.stages[0].id
    db.session.flush()
    return journey
