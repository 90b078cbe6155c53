"""Emails the public pages send a lead (confirmation, a fresh journey link), with one-click
unsubscribe (RFC 8058 headers and a link in the text)."""

from __future__ import annotations

from typing import Any

from flask import render_template

from leadsite.extensions import db
from leadsite.journeys.emails import one_line, unsubscribe_url
from leadsite.models import Funnel, Journey, Lead, OutboxMessage
from leadsite.outbox.email import queue_email
from leadsite.representations import journey_url


def queue_lead_email(lead: Lead, template: str, subject: str, **context: Any) -> OutboxMessage:
    """Render `public/emails/<template>.txt` and `.html` and write the email to the outbox in
    the caller's transaction."""
    assert lead.email, "only a lead with an email address can be emailed"
    unsubscribe = unsubscribe_url(lead)
    context = {**context, "lead": lead, "unsubscribe_url": unsubscribe, "subject": subject}
    return queue_email(
        lead.workspace_id,
        lead.email,
        one_line(subject),
        render_template(f"public/emails/{template}.txt", **context),
        render_template(f"public/emails/{template}.html", **context),
        lead_id=lead.id,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def queue_journey_link(journey: Journey, subject: str) -> OutboxMessage:
    """Email the lead the current link to their journey page, `subject: <funnel name>`."""
    funnel = db.session.get(Funnel, journey.funnel_id)
    return queue_lead_email(
        journey.lead,
        "journey_link",
        f"{subject}{': ' + funnel.name if funnel else ''}",
        funnel_name=funnel.name if funnel else "",
        journey_url=journey_url(journey),
        valid_until=journey.valid_until.strftime("%d %B %Y, %H:%M UTC"),
    )


def masked(address: str) -> str:
    """`j•••@example.com`: enough for the lead to recognise, not enough to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"
