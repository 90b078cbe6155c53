"""Webhooks reach a real HTTP server, signed so the reference library verifies them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from leadsite.extensions import db
from leadsite.models import (
    DeliveryAttempt,
    MessageStatus,
    OriginKind,
    OutboxMessage,
    WebhookEndpoint,
    utcnow,
)
from leadsite.outbox import worker
from leadsite.outbox.events import EventWriter
from leadsite.outbox.outcomes import RETRY_SCHEDULE, next_attempt_after
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.servers import webhook_receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _endpoint(ws, url: str, events=("lead.created",), **fields) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        workspace_id=ws.id, url=url, events=list(events), secret=SECRET, **fields
    )
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def _register(ws, email: str = "hook@example.com"):
    """A registration into a funnel without stages: its only outbox messages are webhooks."""
    origin = factories.origin(factories.funnel(ws), OriginKind.API)
    return register(origin, LeadInput(email=email), RegistrationContext())


def _make_due() -> None:
    """Move retries' clocks forward: every pending message is due now."""
    query = db.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1))
    db.session.execute(query)
    db.session.commit()


def test_a_registration_webhook_arrives_signed_in_the_standard_webhooks_format():
    ws = factories.workspace()
    with webhook_receiver() as receiver:
        _endpoint(ws, receiver.url)
        registration = _register(ws)

        assert worker.run_once() == 1
        received = receiver.wait_for(1)[0]

    payload = Webhook(SECRET).verify(received.body, received.headers)
    assert payload["type"] == "lead.created"
    assert payload["data"]["id"] == registration.lead.id
    assert payload["data"]["email"] == "hook@example.com"
    assert received.headers["webhook-id"].startswith("msg_")
    message = db.session.get(OutboxMessage, received.headers["webhook-id"])
    assert message.status == MessageStatus.DELIVERED
    attempt = db.session.scalar(db.select(DeliveryAttempt).filter_by(message_id=message.id))
    assert (attempt.success, attempt.status_code) == (True, 200)
    assert attempt.response_excerpt == "status 200"


def test_a_tampered_body_fails_verification():
    ws = factories.workspace()
    with webhook_receiver() as receiver:
        _endpoint(ws, receiver.url)
        _register(ws)
        worker.run_once()
        received = receiver.wait_for(1)[0]

    with pytest.raises(Exception, match="No matching signature"):
        Webhook(SECRET).verify(received.body.replace(b"hook@", b"evil@"), received.headers)


def test_a_500_then_200_delivers_twice_with_the_same_webhook_id_and_logs_both():
    ws = factories.workspace()
    with webhook_receiver(statuses=[500, 200]) as receiver:
        endpoint = _endpoint(ws, receiver.url)
        _register(ws)

        worker.run_once()
        message = db.session.scalar(db.select(OutboxMessage))
        db.session.refresh(message)
        assert message.status == MessageStatus.PENDING
        assert message.next_attempt_at > utcnow()  # 5 s later, by the schedule
        _make_due()
        worker.run_once()
        first, second = receiver.wait_for(2)

    assert first.headers["webhook-id"] == second.headers["webhook-id"] == message.id
    attempts = db.session.scalars(
        db.select(DeliveryAttempt)
        .filter_by(endpoint_id=endpoint.id)
        .order_by(DeliveryAttempt.attempted_at)
    ).all()
    assert [(a.status_code, a.success) for a in attempts] == [(500, False), (200, True)]
    db.session.refresh(message)
    assert (message.status, message.attempts) == (MessageStatus.DELIVERED, 2)


def test_a_410_disables_the_endpoint():
    ws = factories.workspace()
    with webhook_receiver(statuses=[410]) as receiver:
        endpoint = _endpoint(ws, receiver.url)
        _register(ws)
        worker.run_once()

    db.session.refresh(endpoint)
    assert endpoint.active is False
    assert "410" in endpoint.disabled_reason
    assert db.session.scalar(db.select(OutboxMessage.status)) == MessageStatus.DEAD


def test_a_private_address_is_refused_at_connection_time(app):
    ws = factories.workspace()
    _endpoint(ws, "http://127.0.0.1:9/never")
    _register(ws)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        worker.run_once()
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True

    message = db.session.scalar(db.select(OutboxMessage))
    db.session.refresh(message)
    assert message.status == MessageStatus.DEAD
    assert "non-public address" in message.last_error


def test_five_dead_messages_in_a_row_disable_the_endpoint():
    ws = factories.workspace()
    with webhook_receiver(statuses=[503]) as receiver:
        endpoint = _endpoint(ws, receiver.url)
        for index in range(5):
            _register(ws, f"dead{index}@example.com")
        db.session.execute(db.update(OutboxMessage).values(attempts=len(RETRY_SCHEDULE)))
        db.session.commit()
        worker.run_once()

    db.session.refresh(endpoint)
    assert endpoint.active is False
    assert "5 deliveries in a row" in endpoint.disabled_reason


def test_a_leads_webhook_input_gets_only_its_events_signed_with_the_workspace_secret():
    ws = factories.workspace()
    origin = factories.origin(factories.funnel(ws), OriginKind.API)
    with webhook_receiver() as receiver:
        from leadsite.registration import WebhookInput

        register(
            origin,
            LeadInput(
                email="a@example.com", webhook=WebhookInput(receiver.url, ["journey.created"])
            ),
            RegistrationContext(),
        )
        register(origin, LeadInput(email="b@example.com"), RegistrationContext())
        worker.run_once()
        received = receiver.wait_for(1)

    assert len(received) == 1
    payload = Webhook(ws.webhook_secret).verify(received[0].body, received[0].headers)
    assert payload["type"] == "journey.created"


def test_during_a_rotation_both_signatures_are_sent():
    ws = factories.workspace()
    old = "whsec_" + "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQ="
    with webhook_receiver() as receiver:
        _endpoint(
            ws,
            receiver.url,
            previous_secret=old,
            previous_secret_expires_at=utcnow() + timedelta(hours=1),
        )
        _register(ws)
        worker.run_once()
        received = receiver.wait_for(1)[0]

    assert len(received.headers["webhook-signature"].split(" ")) == 2
    Webhook(SECRET).verify(received.body, received.headers)
    Webhook(old).verify(received.body, received.headers)


def test_the_retry_schedule_follows_standard_webhooks_with_jitter():
    now = utcnow()
    delays = [(next_attempt_after(n, now) - now).total_seconds() for n in range(1, 10)]
    expected = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]

    assert all(0.9 * e <= d <= 1.1 * e for d, e in zip(delays, expected, strict=True))
    assert next_attempt_after(10, now) is None


def test_events_of_other_types_are_not_sent_to_an_endpoint():
    ws = factories.workspace()
    _endpoint(ws, "https://hooks.example.com/x", events=["journey.completed"])
    lead = factories.lead(ws)

    EventWriter(ws.id, lead.id).emit("lead.updated", {"id": lead.id})
    db.session.commit()

    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize("stored", ["http://[x/", "http://a:99999/", "http://a\r\nb/"])
def test_a_stored_url_that_does_not_parse_fails_its_delivery_and_the_worker_goes_on(stored):
    ws = factories.workspace()
    _endpoint(ws, "https://hooks.example.com/leads")
    bad = _endpoint(ws, "https://hooks.example.com/other")
    db.session.execute(
        db.update(WebhookEndpoint).where(WebhookEndpoint.id == bad.id).values(url=stored)
    )
    db.session.commit()
    _register(ws)

    worker.run_once()

    messages = {m.target: m for m in db.session.scalars(db.select(OutboxMessage))}
    db.session.refresh(messages[stored])
    assert messages[stored].status != MessageStatus.DELIVERED
    assert messages[stored].last_error.startswith("The URL ")
