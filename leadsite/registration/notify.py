"""Notifications a registration asks for itself (vcita's `notifications`): a thank-you email to
the lead, an email to the funnel's notify emails, a text to its SMS numbers. They go through the
outbox, in the registration's transaction, as the funnel's own notifications do."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from leadsite import i18n
from leadsite.journeys.activities import notify_recipients
from leadsite.journeys.emails import TemplateFailed, greeting_body, lead_email, staff_email
from leadsite.models import Funnel, Journey, Lead
from leadsite.outbox.email import queue_email
from leadsite.outbox.notifications import queue_registration_sms
from leadsite.outbox.staff_email import queue_staff_emails


def thank_you(lead: Lead) -> dict[str, str]:
    """The auto-reply's subject and body, in the lead's language."""
    with force_locale(i18n.lead_language(lead)):
        return {
            "subject": _("Thank you, we have received your request"),
            "body": greeting_body(_("Thank you for your request. We will get back to you soon.")),
        }


def request_note(request: dict[str, Any] | None) -> str:
    """The request the lead made (vcita's title, its data, the system message), as the staff
    email tells it: the owner was told "New lead …: Ann" and not what Ann asked for."""
    if not request:
        return ""
    lines = [f"Request: {request.get('title') or ''}"]
    for name in ("message_data", "request_data"):
        lines += [f"{key}: {value}" for key, value in (request.get(name) or {}).items()]
    if request.get("system_message"):
        lines.append(str(request["system_message"]))
    return "\n".join(lines)


def queue_notifications(
    funnel: Funnel,
    lead: Lead,
    journey: Journey,
    asked: tuple[str, ...],
    created: bool,
    request: dict[str, Any] | None = None,
) -> None:
    """Queue what `asked` names. A new lead's staff SMS is already queued by the pipeline; a
    lead who opted out gets no thank-you. The staff email tells the lead's `request`."""
    if "auto-reply" in asked and lead.email and lead.opted_out_at is None:
        texts = thank_you(lead)
        email = lead_email(lead, journey, {}, texts, texts["subject"])
        queue_email(
            lead.workspace_id,
            lead.email,
            email.subject,
            email.text,
            email.html,
            lead.id,
            headers={
                "List-Unsubscribe": f"<{email.unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    if "email" in asked:
        valid, _ = notify_recipients(list(funnel.notify_emails or []))
        try:
            email = staff_email(lead, journey, {}, {"note": request_note(request)}, "")
        except TemplateFailed:  # only a staff-written subject can fail; there is none here
            return
        queue_staff_emails(lead.workspace_id, valid, email.subject, email.text, email.html, lead.id)
    if "sms" in asked and not created:
        queue_registration_sms(funnel, lead)
