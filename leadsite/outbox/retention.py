"""What is deleted once kept long enough: idempotency records after 24 h, delivered outbox
messages and their attempts after `OUTBOX_RETENTION_DAYS`. The worker's housekeeping runs it.

Deletes go in batches, one transaction each, so that no lock is held long (SQLite's write lock
above all) and a large backlog never makes one huge transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import DeliveryAttempt, IdempotencyRecord, MessageStatus, OutboxMessage, utcnow

# What an `Idempotency-Key` promises (api.idempotency.LIFETIME): the outbox cannot import the
# API (imports run doors → services → outbox), hence the copy.
IDEMPOTENCY_LIFETIME = timedelta(hours=24)
BATCH = 1000


def prune_idempotency_records(now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete the records of keys past their 24 hours; returns how many."""
    cutoff = (now or utcnow()) - IDEMPOTENCY_LIFETIME
    old = db.select(IdempotencyRecord.id).where(IdempotencyRecord.created_at < cutoff)
    return _delete_in_batches(IdempotencyRecord.id, old, batch)


def prune_delivered_messages(now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete delivered messages older than `OUTBOX_RETENTION_DAYS` (none when 0), their
    attempts first; returns how many messages. Dead messages stay for staff to see."""
    days = float(current_app.config.get("OUTBOX_RETENTION_DAYS") or 0)
    if days <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(days=days)
    deleted = 0
    while True:
        ids = list(
            db.session.scalars(
                db.select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == MessageStatus.DELIVERED,
                    # Due before it was delivered: this bounds the scan of the status index.
                    OutboxMessage.next_attempt_at < cutoff,
                    OutboxMessage.delivered_at < cutoff,
                )
                .limit(batch)
            )
        )
        db.session.rollback()  # the read's transaction: the write takes the lock afresh
        if not ids:
            return deleted
        begin_write_transaction()
        _delete(DeliveryAttempt.message_id.in_(ids), DeliveryAttempt)
        _delete(OutboxMessage.id.in_(ids), OutboxMessage)
        db.session.commit()
        deleted += len(ids)
        if len(ids) < batch:
            return deleted


def _delete_in_batches(id_column: ColumnElement[str], old: Select, batch: int) -> int:
    deleted = 0
    model = id_column.class_  # type: ignore[attr-defined]
    while True:
        begin_write_transaction()
        result = db.session.execute(
            db.delete(model)
            .where(id_column.in_(old.limit(batch).scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        count = result.rowcount or 0
        deleted += count
        if count < batch:
            return deleted


def _delete(condition: ColumnElement[bool], model: type) -> None:
    db.session.execute(
        db.delete(model).where(condition).execution_options(synchronize_session=False)
    )
