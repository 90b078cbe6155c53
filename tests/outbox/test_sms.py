"""SMS to staff on a new lead, through the provider interface (the logging provider here)."""

from __future__ import annotations

import logging

from leadsite.extensions import db
from leadsite.models import Channel, MessageStatus, OriginKind, OutboxMessage
from leadsite.outbox import worker
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories


class RecordingProvider:
    sent: list[tuple[str, str]] = []

    def __init__(self, config: object) -> None:
        pass

    def send(self, to: str, text: str) -> str:
        RecordingProvider.sent.append((to, text))
        return f"ref-{len(RecordingProvider.sent)}"


def _register_with_sms(numbers: list[str]) -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws, name="Demo", settings={"sms_staff": numbers})
    origin = factories.origin(funnel, OriginKind.API)
    register(origin, LeadInput(email="sms@example.com", first_name="Ada"), RegistrationContext())


def test_a_new_lead_texts_the_funnels_staff_numbers_through_the_logging_provider(caplog):
    _register_with_sms(["+14155550100"])

    with caplog.at_level(logging.INFO, logger="leadsite.outbox.sms"):
        worker.run_once()

    message = db.session.scalar(db.select(OutboxMessage).filter_by(channel=Channel.SMS))
    assert message.target == "+14155550100"
    assert message.status == MessageStatus.DELIVERED
    assert "SMS to +14155550100: New lead in Demo: Ada" in caplog.text


def test_a_configured_provider_class_sends_the_sms(app):
    RecordingProvider.sent.clear()
    _register_with_sms(["+14155550100", "not a number"])
    app.config["SMS_PROVIDER"] = "tests.outbox.test_sms.RecordingProvider"
    try:
        worker.run_once()
    finally:
        app.config["SMS_PROVIDER"] = None

    assert RecordingProvider.sent == [("+14155550100", "New lead in Demo: Ada")]
