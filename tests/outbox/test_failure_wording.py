"""A failed delivery is recorded as a sentence staff can act on, never an exception's text."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import DeliveryAttempt, OriginKind, OutboxMessage, WebhookEndpoint
from leadsite.outbox import worker
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.servers import webhook_receiver


def _webhook_to(url: str) -> OutboxMessage:
    ws = factories.workspace()
    db.session.add(WebhookEndpoint(workspace_id=ws.id, url=url, events=["lead.created"]))
    db.session.commit()
    origin = factories.origin(factories.funnel(ws), OriginKind.API)
    register(origin, LeadInput(email="ada@example.com"), RegistrationContext())
    worker.run_once()
    message = db.session.scalar(db.select(OutboxMessage))
    db.session.refresh(message)
    return message


def test_a_webhook_to_a_host_that_does_not_exist_says_so_and_what_to_check():
    message = _webhook_to("https://hooks.nowhere.invalid/leads")

    assert message.last_error == (
        "The address hooks.nowhere.invalid could not be found (DNS): "
        "check the host name in the URL."
    )
    attempt = db.session.scalar(db.select(DeliveryAttempt))
    assert attempt.error == message.last_error


def test_a_webhook_answered_with_an_error_names_the_status_and_what_it_means():
    with webhook_receiver(statuses=[502]) as receiver:
        message = _webhook_to(receiver.url)

    assert message.last_error == "HTTP 502 Bad Gateway — the server answered with an error"
