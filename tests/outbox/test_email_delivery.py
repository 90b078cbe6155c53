"""Emails go out by SMTP to a real server (aiosmtpd), or stay in the dev mailbox."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import DeliveryAttempt, MessageStatus, OutboxMessage
from leadsite.outbox import worker
from leadsite.outbox.email import queue_email
from tests import factories
from tests.servers import smtp_server


def test_an_email_is_delivered_by_smtp_with_text_html_and_headers(app):
    ws = factories.workspace("Acme")
    ws.sender_email = "hello@acme.example"
    queue_email(
        ws.id,
        "lead@example.com",
        "Welcome",
        "Hello in text",
        "<p>Hello in HTML</p>",
        headers={"List-Unsubscribe": "<http://localhost/unsubscribe/t>"},
    )
    db.session.commit()

    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            assert worker.run_once() == 1
        finally:
            app.config["MAIL_URL"] = None
        email = mailbox.wait_for(1)[0]

    assert email["To"] == "lead@example.com"
    assert email["From"] == "Acme <hello@acme.example>"
    assert email["Subject"] == "Welcome"
    assert email["List-Unsubscribe"] == "<http://localhost/unsubscribe/t>"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in email.walk()
        if not part.is_multipart()
    }
    assert "Hello in text" in parts["text/plain"]
    assert "<p>Hello in HTML</p>" in parts["text/html"]
    assert db.session.scalar(db.select(OutboxMessage.status)) == MessageStatus.DELIVERED


def test_an_smtp_failure_is_retried_later(app):
    ws = factories.workspace()
    queue_email(ws.id, "lead@example.com", "Hi", "Text")
    db.session.commit()
    app.config["MAIL_URL"] = "smtp://127.0.0.1:9"  # nothing listens there
    try:
        worker.run_once()
    finally:
        app.config["MAIL_URL"] = None

    message = db.session.scalar(db.select(OutboxMessage))
    db.session.refresh(message)
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.last_error == (
        "The server refused the connection: check that it is running on that port."
    )


def test_without_mail_url_emails_stay_in_the_dev_mailbox():
    ws = factories.workspace()
    queue_email(ws.id, "lead@example.com", "Hi", "Text")
    db.session.commit()

    worker.run_once()

    attempt = db.session.scalar(db.select(DeliveryAttempt))
    assert attempt.success and attempt.response_excerpt == "sent to dev-mailbox"
