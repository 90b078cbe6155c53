"""An email activity rendered before it is saved: on a lead's journey of the funnel (or a made-up
lead), to preview it in the editor or send it to the staff member as a test."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from leadsite.extensions import db
from leadsite.journeys.conditions import data_values
from leadsite.journeys.emails import (
    Email,
    TemplateFailed,
    compose_lead_email,
    lead_email,
    sample_context,
    staff_email,
)
from leadsite.models import ActivityKind, Funnel, Journey, Lead, OutboxMessage
from leadsite.outbox.email import queue_email

PREVIEW_KINDS = (ActivityKind.EMAIL_LEAD.value, ActivityKind.NOTIFY_STAFF.value)
MAX_PREVIEW_LEADS = 50
TEST_PREFIX = "[Test] "


@dataclass
class Preview:
    """The rendered email, or why there is none; `on` says whose data it was rendered with."""

    email: Email | None = None
    problem: str | None = None
    on: str = ""
    lead_id: str | None = None


def preview_journeys(funnel: Funnel, limit: int = MAX_PREVIEW_LEADS) -> list[Journey]:
    """The funnel's most recent journeys of leads not erased: whom a preview can be rendered on."""
    return list(
        db.session.scalars(
            db.select(Journey)
            .join(Journey.lead)
            .where(Journey.funnel_id == funnel.id, Lead.erased_at.is_(None))
            .order_by(Journey.created_at.desc(), Journey.id)
            .limit(limit)
        )
    )


def find_preview_journey(funnel: Funnel, journey_id: str | None) -> Journey | None:
    """The journey of this funnel with this id (another funnel's is None)."""
    if not journey_id:
        return None
    return db.session.scalar(db.select(Journey).filter_by(id=journey_id, funnel_id=funnel.id))


def render_preview(
    kind: str,
    config: dict[str, Any],
    title: str,
    funnel: Funnel,
    stage_name: str,
    journey: Journey | None,
) -> Preview:
    """Render the activity's email as its step would on `journey`; without one, an
    `email_lead` is rendered on a made-up lead and a notification cannot be."""
    try:
        if journey is not None:
            lead, data = journey.lead, data_values(journey)
            on = lead.display_name
            if kind == ActivityKind.NOTIFY_STAFF:
                email = staff_email(lead, journey, data, config, stage_name)
            else:
                email = lead_email(lead, journey, data, config, title)
            return Preview(email, on=on, lead_id=lead.id)
        if kind == ActivityKind.NOTIFY_STAFF:
            return Preview(problem="No lead has a journey in this funnel yet to preview it on.")
        context = {**sample_context(), "funnel": funnel.name}
        email = compose_lead_email(config, title, context, "#unsubscribe")
        return Preview(email, on="a made-up lead (Ada Lovelace)")
    except TemplateFailed as error:
        return Preview(problem=f"It cannot be rendered: {error}.")


def queue_test_email(workspace_id: str, to: str, preview: Preview) -> OutboxMessage:
    """Queue the previewed email to `to` (the staff member) through the outbox, marked a test;
    it names the lead it was rendered on, so erasing the lead erases it too."""
    email = preview.email
    if email is None:
        raise ValueError("nothing was rendered to send")
    subject = TEST_PREFIX + email.subject
    return queue_email(workspace_id, to, subject, email.text, email.html, preview.lead_id)
