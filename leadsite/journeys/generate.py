"""Generate a lead's journey through a funnel: one step per activity, every step pending."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm.attributes import set_committed_value

from leadsite.journeys.plan import StagePlan, funnel_plan, pending_step
from leadsite.models import (
    Funnel,
    Journey,
    JourneyStatus,
    Lead,
    Origin,
    utcnow,
)
from leadsite.models.base import made

ACCESS_TOKEN_LIFETIME = timedelta(days=7)


def new_access_token() -> tuple[str, datetime]:
    """A fresh token for the lead's page `/j/<token>` and the time it stops working."""
    return secrets.token_urlsafe(32), utcnow() + ACCESS_TOKEN_LIFETIME


def start_journey(
    lead: Lead, funnel: Funnel, origin: Origin | None, plan: list[StagePlan] | None = None
) -> Journey:
    """Make the lead's journey in `funnel` with a step per activity, in memory only: the caller
    adds the journey and its steps to the session, or writes them as `NewRows`.

    Every step starts pending and the journey in no stage: `engine.enter_first_stage` then
    enters the first stage whose condition holds, on the same objects, so that the journey and
    its steps are inserted once, as they end up.
    """
    stages = funnel_plan(funnel.id) if plan is None else plan
    token, valid_until = new_access_token()
    # `made`, and the relationships set as if loaded: without the constructor's and the
    # collection's attribute events, which were a third of building an imported row.
    journey = made(
        Journey,
        workspace_id=lead.workspace_id,
        lead_id=lead.id,
        funnel_id=funnel.id,
        origin_id=origin.id if origin else None,
        status=JourneyStatus.ACTIVE,
        access_token=token,
        valid_until=valid_until,
    )
    set_committed_value(journey, "lead", lead)  # for conditions; no backref into lead.journeys
    activities = [(stage, activity) for stage in stages for activity in stage.activities]
    steps = [
        pending_step(journey.id, stage, activity, position)
        for position, (stage, activity) in enumerate(activities)
    ]
    set_committed_value(journey, "steps", steps)
    for step in steps:
        set_committed_value(step, "journey", journey)
    return journey
