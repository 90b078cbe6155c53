"""Notifications a funnel asks for on each new registration, beyond its journey's activities."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import Channel, Funnel, Lead, OutboxMessage, utcnow

MAX_SMS = 160


def queue_registration_sms(funnel: Funnel, lead: Lead) -> list[OutboxMessage]:
    """One SMS per number in the funnel's `settings["sms_staff"]` (E.164) about a new lead."""
    numbers = (funnel.settings or {}).get("sms_staff") or []
    who = lead.display_name
    text = f"New lead in {funnel.name}: {who}"
    if lead.phone and lead.phone != who:
        text += f", {lead.phone}"
    messages = [
        OutboxMessage(
            workspace_id=lead.workspace_id,
            lead_id=lead.id,
            channel=Channel.SMS,
            target=number,
            payload={"text": text[:MAX_SMS]},
            next_attempt_at=utcnow(),
        )
        for number in numbers
        if isinstance(number, str) and number.startswith("+")
    ]
    db.session.add_all(messages)
    return messages
