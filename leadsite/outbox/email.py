"""Queue an email in the outbox (delivered by the worker: SMTP, or the dev mailbox)."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import Channel, OutboxMessage, utcnow


def queue_email(
    workspace_id: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    lead_id: str | None = None,
    headers: dict[str, str] | None = None,
    event_id: str | None = None,
    private: bool = False,
) -> OutboxMessage:
    """Write an email to the outbox in the caller's transaction; the worker sends it.

    A `private` email (a sign-in or password link) is listed in the back-office mailbox
    without its text, which only its recipient may read."""
    message = OutboxMessage(
        workspace_id=workspace_id,
        lead_id=lead_id,
        event_id=event_id,
        channel=Channel.EMAIL,
        target=to,
        payload={
            "subject": subject,
            "text": text,
            "html": html,
            "headers": headers or {},
            **({"private": True} if private else {}),
        },
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    return message
