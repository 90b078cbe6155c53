"""The worker's housekeeping deletes what is kept long enough: idempotency records after 24 h,
delivered outbox messages and their attempts after OUTBOX_RETENTION_DAYS, in batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.models import (
    DeliveryAttempt,
    IdempotencyRecord,
    MessageStatus,
    OutboxMessage,
    utcnow,
)
from leadsite.outbox import housekeeping, retention, worker
from tests import factories
from tests.operations.conftest import ApiWorld
from tests.servers import webhook_receiver


def _count(model: type) -> int:
    db.session.remove()
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _statuses() -> dict[str, int]:
    db.session.remove()
    rows = db.session.execute(
        db.select(OutboxMessage.status, db.func.count()).group_by(OutboxMessage.status)
    )
    return dict(rows.all())


def test_idempotency_records_go_after_24_hours(api: ApiWorld):
    answer = api.register({"email": "ada@example.com"}, headers={"Idempotency-Key": "k-1"})
    assert answer.status_code == 201
    now = utcnow()

    housekeeping.run(now=now + timedelta(hours=23))
    kept = _count(IdempotencyRecord)
    housekeeping.run(now=now + timedelta(hours=24, minutes=1))

    assert (kept, _count(IdempotencyRecord)) == (1, 0)


@pytest.fixture
def delivered_and_dead(api: ApiWorld) -> None:
    """Three leads' webhooks delivered (with their attempts), one refused for good (dead), and
    one not due yet (pending)."""
    with webhook_receiver(statuses=[200, 200, 200, 410]) as receiver:
        factories.webhook_endpoint(api.workspace, url=receiver.url, events=["lead.created"])
        for name in ("ada", "bob", "cy", "dee"):
            assert api.register({"email": f"{name}@example.com"}).status_code == 201
            assert worker.deliver_messages() == 1
    endpoint = factories.webhook_endpoint(api.workspace, url="https://hooks.example.com/x")
    factories.waiting_message(endpoint, due_in=timedelta(days=90))
    assert _statuses() == {"delivered": 3, "dead": 1, "pending": 1}
    assert _count(DeliveryAttempt) == 4


def test_delivered_messages_and_attempts_go_after_the_retention(app: Flask, delivered_and_dead):
    assert app.config["OUTBOX_RETENTION_DAYS"] == 30
    now = utcnow()

    housekeeping.run(now=now + timedelta(days=29))
    kept = _statuses()
    housekeeping.run(now=now + timedelta(days=30, minutes=1))

    assert kept == {"delivered": 3, "dead": 1, "pending": 1}
    # The dead one stays for staff to see and send again, with its attempt.
    assert _statuses() == {"dead": 1, "pending": 1}
    db.session.remove()
    attempts = db.session.scalars(db.select(DeliveryAttempt)).all()
    assert [(a.success, a.status_code) for a in attempts] == [(False, 410)]


def test_deletes_go_in_batches(delivered_and_dead):
    deleted = retention.prune_delivered_messages(now=utcnow() + timedelta(days=31), batch=2)

    assert deleted == 3
    assert _statuses() == {MessageStatus.DEAD: 1, MessageStatus.PENDING: 1}


def test_a_retention_of_zero_keeps_delivered_messages(app: Flask, delivered_and_dead):
    app.config["OUTBOX_RETENTION_DAYS"] = 0
    try:
        housekeeping.run(now=utcnow() + timedelta(days=3650))
    finally:
        app.config["OUTBOX_RETENTION_DAYS"] = 30

    assert _statuses()["delivered"] == 3
