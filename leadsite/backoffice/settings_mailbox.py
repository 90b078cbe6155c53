"""Settings, mailbox: the workspace's outgoing emails, newest first, each readable in full."""

from __future__ import annotations

from flask import abort, current_app, g, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.models import Channel, OutboxMessage

PAGE_SIZE = 50


def mail_server() -> str | None:
    """Where MAIL_URL sends email (host:port, never its credentials), or None when unset."""
    mail_url = current_app.config.get("MAIL_URL")
    if not mail_url:
        return None
    parts = values.url_parts(mail_url)
    if parts is None:
        return "(MAIL_URL is not a valid URL)"
    return (
        f"{parts.scheme}://{parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}"
    )


def _emails(before: str | None) -> tuple[list[OutboxMessage], str | None]:
    """A page of the workspace's emails, newest first (ids sort by time), and the next cursor."""
    statement = (
        db.select(OutboxMessage)
        .filter_by(workspace_id=g.workspace.id, channel=Channel.EMAIL)
        .order_by(OutboxMessage.id.desc())
        .limit(PAGE_SIZE + 1)
    )
    if before:
        statement = statement.where(OutboxMessage.id < before)
    rows = list(db.session.scalars(statement))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, (rows[-1].id if more else None)


@bp.get("/settings/mailbox")
def mailbox_index() -> Response:
    """Every email of the workspace (to leads and staff), with subject, recipient and status.

    Says at the top whether MAIL_URL is set (sent by SMTP) or not (kept here only).
    """
    before = request.args.get("before") or None
    emails, next_cursor = _emails(before)
    older_url = url_for("backoffice.mailbox_index", before=next_cursor) if next_cursor else None
    return render_page_or_block(
        "backoffice/settings/mailbox.html",
        "mailbox",
        emails=emails,
        older_url=older_url,
        before=before,
        mail_server=mail_server(),
    )


@bp.get("/settings/mailbox/<message_id>")
def mailbox_message(message_id: str) -> Response:
    """One email as it was written: headers and its plain text."""
    message = db.session.scalar(
        db.select(OutboxMessage).filter_by(
            id=message_id, workspace_id=g.workspace.id, channel=Channel.EMAIL
        )
    )
    if message is None:
        abort(404)
    # An invitation or password-reset link is its recipient's alone: whoever else reads the
    # mailbox could take over the account, or learn whether an invited email had one.
    hidden = bool(message.payload.get("private")) and message.target != current_user.email
    return render_page_or_block(
        "backoffice/settings/mailbox_message.html",
        "message",
        message=message,
        hidden=hidden,
        mail_server=mail_server(),
    )
