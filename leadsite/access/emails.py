"""The account emails (invitation, password reset): a link only the recipient may read, sent
through the outbox like every email and marked private so the back-office mailbox hides it."""

from __future__ import annotations

from flask import render_template

from leadsite.models import OutboxMessage, Workspace
from leadsite.outbox.email import queue_email


def queue_account_email(
    workspace: Workspace, to: str, subject: str, template: str, **context: object
) -> OutboxMessage:
    """Render `emails/<template>.txt` and `.html` and queue them, private to the recipient."""
    context = {"workspace": workspace, "subject": subject, **context}
    return queue_email(
        workspace.id,
        to,
        subject,
        render_template(f"emails/{template}.txt", **context),
        render_template(f"emails/{template}.html", **context),
        private=True,
    )
