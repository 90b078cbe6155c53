"""Settings, mailbox: the workspace's outgoing emails, newest first, each readable in full."""

from __future__ import annotations

from flask import abort, current_app, g, make_response, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.models import Channel, DeliveryAttempt, MessageStatus, OutboxMessage
from leadsite.outbox.mail import KEPT_HERE

PAGE_SIZE = 50
# The email's HTML is the workspace's own template filled with what a lead typed: it runs no
# script, submits no form and reaches nothing of ours; its links open in a new tab.
EMAIL_HTML_POLICY = "; ".join(
    [
        "sandbox allow-popups allow-popups-to-escape-sandbox",
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data: https:",
        "form-action 'none'",
        "frame-ancestors 'self'",
    ]
)
NEW_TAB = '<base target="_blank">'


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


def _kept_here(emails: list[OutboxMessage]) -> set[str]:
    """The ids of those emails that were kept in the dev mailbox rather than sent (MAIL_URL was
    unset when the worker took them): "delivered" would say the opposite of the page's banner."""
    if not emails:
        return set()
    return set(
        db.session.scalars(
            db.select(DeliveryAttempt.message_id).filter(
                DeliveryAttempt.message_id.in_([email.id for email in emails]),
                DeliveryAttempt.success.is_(True),
                DeliveryAttempt.response_excerpt == KEPT_HERE,
            )
        )
    )


def status_words(message: OutboxMessage, kept_here: bool) -> tuple[str, str]:
    """What became of an email, in words, and the badge's colour (its `data-status`)."""
    if message.status == MessageStatus.DELIVERED:
        return ("Kept here, not sent", "new") if kept_here else ("Sent", "active")
    if message.status == MessageStatus.DEAD:
        return "Not sent: given up", "ended"
    if message.attempts:
        return "Not sent yet: will try again", "lost"
    return "Queued: the worker has not taken it yet", "new"


@bp.get("/settings/mailbox")
def mailbox_index() -> Response:
    """Every email of the workspace (to leads and staff), with subject, recipient and status.

    Says at the top whether MAIL_URL is set (sent by SMTP) or not (kept here only).
    """
    before = request.args.get("before") or None
    emails, next_cursor = _emails(before)
    older_url = url_for("backoffice.mailbox_index", before=next_cursor) if next_cursor else None
    kept = _kept_here(emails)
    return render_page_or_block(
        "backoffice/settings/mailbox.html",
        "mailbox",
        emails=[(email, status_words(email, email.id in kept)) for email in emails],
        older_url=older_url,
        before=before,
        mail_server=mail_server(),
    )


def _email(message_id: str) -> tuple[OutboxMessage, bool]:
    """The workspace's email, and whether its text is hidden from the reader; 404 if none."""
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
    return message, hidden


@bp.get("/settings/mailbox/<message_id>")
def mailbox_message(message_id: str) -> Response:
    """One email as it was written: headers, the HTML as a mail client shows it (framed from
    `mailbox_message_html`), and its plain text."""
    message, hidden = _email(message_id)
    return render_page_or_block(
        "backoffice/settings/mailbox_message.html",
        "message",
        message=message,
        hidden=hidden,
        outcome=status_words(message, message.id in _kept_here([message]))[0],
        mail_server=mail_server(),
    )


@bp.get("/settings/mailbox/<message_id>/html")
def mailbox_message_html(message_id: str) -> Response:
    """The email's HTML alone, for the frame on its page: sandboxed by its own CSP (no script,
    no form, an origin of its own), links opening in a new tab."""
    message, hidden = _email(message_id)
    html = message.payload.get("html")
    if hidden or not html:
        abort(404)
    response = make_response(NEW_TAB + html)
    response.headers["Content-Security-Policy"] = EMAIL_HTML_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response
