"""Send an email: by SMTP when `MAIL_URL` is set, else keep it in the dev mailbox."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote

from leadsite import values
from leadsite.outbox.failures import UnusableUrl

DEV_MAILBOX = "dev-mailbox"
# What a delivery attempt of an email kept in the dev mailbox says it answered (delivery.py).
KEPT_HERE = f"sent to {DEV_MAILBOX}"


def kept_here(attempt: Any) -> bool:
    """An email's successful attempt that kept it in the dev mailbox (MAIL_URL unset): not sent."""
    return bool(attempt.success) and attempt.response_excerpt == KEPT_HERE


def build_message(sender: str, to: str, payload: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = payload.get("subject") or ""
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "leadsite.local")
    for name, value in (payload.get("headers") or {}).items():
        message[name] = value
    message.set_content(payload.get("text") or "")
    if payload.get("html"):
        message.add_alternative(payload["html"], subtype="html")
    return message


def send(mail_url: str | None, message: EmailMessage, timeout: float = 10) -> str:
    """Deliver and return where it went; raises smtplib/OSError errors on failure."""
    if not mail_url:
        return DEV_MAILBOX
    parts = values.url_parts(mail_url)
    if parts is None:
        raise UnusableUrl("MAIL_URL is not a valid URL: correct it in the server's configuration.")
    options = parse_qs(parts.query)
    host, port = parts.hostname or "localhost", parts.port
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=timeout)
    else:
        client = smtplib.SMTP(host, port or 25, timeout=timeout)
    with client:
        if parts.scheme == "smtp" and (options.get("starttls") == ["1"] or port == 587):
            client.starttls()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
    return f"{host}:{port or 25}"


def sender_address(workspace_name: str, sender_email: str | None, default: str) -> str:
    return formataddr((workspace_name, sender_email or default))
