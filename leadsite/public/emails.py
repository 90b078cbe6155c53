"""Emails the public pages send a lead (confirmation, a fresh journey link), with one-click
unsubscribe (RFC 8058 headers and a link in the text)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel.speaklater import LazyString

from leadsite import i18n
from leadsite.extensions import db
from leadsite.journeys.emails import one_line, unsubscribe_url
from leadsite.models import Funnel, Journey, Lead, OutboxMessage
from leadsite.outbox.email import queue_email
from leadsite.representations import journey_url


def queue_lead_email(
    lead: Lead, template: str, subject: str | LazyString, **context: Any
) -> OutboxMessage:
    """Render `public/emails/<template>.txt` and `.html` in the lead's language and write the
    email to the outbox in the caller's transaction. A `lazy_gettext` subject is translated
    into the lead's language too."""
    assert lead.email, "only a lead with an email address can be emailed"
    unsubscribe = unsubscribe_url(lead)
    with force_locale(i18n.lead_language(lead)):
        subject = str(subject)
        context = {**context, "lead": lead, "unsubscribe_url": unsubscribe, "subject": subject}
        text = render_template(f"public/emails/{template}.txt", **context)
        html = render_template(f"public/emails/{template}.html", **context)
    return queue_email(
        lead.workspace_id,
        lead.email,
        one_line(subject),
        text,
        html,
        lead_id=lead.id,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def queue_journey_link(journey: Journey, subject: LazyString) -> OutboxMessage:
    """Email the lead the current link to their journey page, `subject: <funnel name>`."""
    funnel = db.session.get(Funnel, journey.funnel_id)
    with force_locale(i18n.lead_language(journey.lead)):
        valid_until = i18n.moment(journey.valid_until)
        subject_line = f"{subject}{': ' + funnel.name if funnel else ''}"
    return queue_lead_email(
        journey.lead,
        "journey_link",
        subject_line,
        funnel_name=funnel.name if funnel else "",
        journey_url=journey_url(journey),
        valid_until=valid_until,
    )


def masked(address: str) -> str:
    """`j•••@example.com`: enough for the lead to recognise, not enough to harvest."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"
