"""A request id (X-Request-Id, or made) is answered, written on the registration's events and
outbox messages, and logged by the worker that delivers them; JSON logs carry it."""

from __future__ import annotations

import io
import json
import logging

import pytest

from leadsite.extensions import db
from leadsite.models import Event, OutboxMessage
from leadsite.monitoring import request_ids
from leadsite.monitoring.logs import JsonFormatter, RequestIdFilter
from leadsite.outbox import worker
from tests import factories
from tests.operations.conftest import ApiWorld
from tests.servers import webhook_receiver


def test_the_request_id_given_is_answered(client):
    response = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.42"})

    assert response.headers["X-Request-Id"] == "lb-7f3a.42"


@pytest.mark.parametrize("given", [None, "", "x" * 129, "two words", "a\u00e9b", "<script>"])
def test_a_request_id_is_made_when_none_or_an_unfit_one_is_given(client, given):
    headers = {"X-Request-Id": given} if given is not None else {}

    answered = client.get("/healthz", headers=headers).headers["X-Request-Id"]
    again = client.get("/healthz", headers=headers).headers["X-Request-Id"]

    assert len(answered) == 32 and int(answered, 16) >= 0
    assert answered != again


def test_a_registration_s_events_and_deliveries_carry_its_request_id(api: ApiWorld, caplog):
    with webhook_receiver() as receiver:
        factories.webhook_endpoint(api.workspace, url=receiver.url, events=["lead.created"])
        answer = api.register(
            {"email": "ada@example.com"}, headers={"X-Request-Id": "req-registration-1"}
        )
        other = api.register({"email": "bob@example.com"})
        with caplog.at_level(logging.INFO, logger="leadsite.outbox.outcomes"):
            assert worker.deliver_messages() == 2

    assert answer.status_code == 201
    assert answer.headers["X-Request-Id"] == "req-registration-1"
    lead_id = answer.json["data"]["id"]
    events = db.session.scalars(db.select(Event).where(Event.lead_id == lead_id)).all()
    assert events and {event.request_id for event in events} == {"req-registration-1"}
    message = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.lead_id == lead_id)
    ).one()
    assert message.request_id == "req-registration-1"
    delivered = {
        record.message_id: record.request_id
        for record in caplog.records
        if getattr(record, "outcome", None) == "delivered"
    }
    assert delivered[message.id] == "req-registration-1"
    other_id = other.headers["X-Request-Id"]
    assert other_id in delivered.values() and other_id != "req-registration-1"


def test_rows_made_outside_a_request_have_no_request_id():
    endpoint = factories.webhook_endpoint(factories.workspace())

    assert factories.waiting_message(endpoint).request_id is None


def _json_logger() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.json_logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_log_lines_carry_the_request_id_and_extra_fields():
    logger, stream = _json_logger()

    with request_ids.bound("req-json-1"):
        logger.info("delivered %s", "msg_1", extra={"status_code": 200, "lead_id": "lead_1"})
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("it failed")
    logger.info("outside", extra={"request_id": "named-by-the-caller"})

    first, failed, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "delivered msg_1"
    assert (first["level"], first["logger"]) == ("INFO", "tests.json_logs")
    assert (first["request_id"], first["status_code"], first["lead_id"]) == (
        "req-json-1",
        200,
        "lead_1",
    )
    assert first["time"].endswith("+00:00")
    assert failed["request_id"] == "req-json-1"
    assert "ValueError: boom" in failed["exception"]
    assert outside["request_id"] == "named-by-the-caller"
