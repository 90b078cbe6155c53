"""Claims: a worker's leases on due outbox messages and journey steps.

A claimed message is locked until `locked_until`; a worker that dies mid-delivery leaves it to be
claimed again when the lease expires. PostgreSQL claims with FOR UPDATE SKIP LOCKED, so any number
of workers share the work; SQLite serializes claims with its write lock.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import text

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import Channel, JourneyStep, MessageStatus, OutboxMessage, utcnow

SYNCHRONOUS_COMMIT_OFF = text("SET LOCAL synchronous_commit = off")
BATCH_SIZE = 50
STEP_BATCH_SIZE = 20


def lease_length() -> timedelta:
    """How long a claim keeps what it claimed from other workers (`WORKER_LEASE_SECONDS`)."""
    return timedelta(seconds=current_app.config["WORKER_LEASE_SECONDS"])


def claim_messages(
    limit: int = BATCH_SIZE,
    lease: timedelta | None = None,
    commit: bool = True,
    busy: tuple[set[str], set[str]] = (set(), set()),
) -> list[OutboxMessage]:
    """Lock up to `limit` due messages for this worker and return them, oldest due first.

    With `commit` off the claim's transaction is left open, for the caller to read what the
    batch needs in it (`load_batch`, which commits): a transaction less before the first send.
    `busy` is the endpoint ids, and URLs, this worker is still sending to (`Lanes.busy`): their
    messages wait for the next claim after those sends, not behind them in the lanes.
    """
    now = utcnow()
    begin_write_transaction()
    due = db.select(OutboxMessage.id).where(
        OutboxMessage.status == MessageStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        db.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
    )
    busy_endpoints, busy_urls = busy
    if busy_endpoints:  # NOT IN alone would leave out the messages without one (emails)
        due = due.where(
            db.or_(
                OutboxMessage.endpoint_id.is_(None),
                OutboxMessage.endpoint_id.not_in(sorted(busy_endpoints)),
            )
        )
    if busy_urls:
        due = due.where(
            db.or_(
                OutboxMessage.channel != Channel.WEBHOOK,
                OutboxMessage.endpoint_id.is_not(None),
                OutboxMessage.target.not_in(sorted(busy_urls)),
            )
        )
    due = due.order_by(OutboxMessage.next_attempt_at).limit(limit)
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # One statement finds, locks and returns them (UPDATE ... RETURNING on both databases).
    claim = (
        db.update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(locked_until=now + (lease or lease_length()))
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    messages = sorted(db.session.scalars(claim), key=lambda m: (m.next_attempt_at, m.id))
    if messages and db.engine.dialect.name == "postgresql":
        # The commit need not wait for the disk (behind every other database's writes on a
        # busy server): a claim a PostgreSQL crash forgets is claimed again, and the message
        # delivered again with the same webhook-id, as at-least-once delivery allows.
        db.session.execute(SYNCHRONOUS_COMMIT_OFF)
    if commit:
        db.session.commit()
    return messages


def claim_steps(limit: int = STEP_BATCH_SIZE, lease: timedelta | None = None) -> list[str]:
    """Lock up to `limit` due automatic journey steps for this worker; return their ids."""
    from leadsite.journeys.engine import due_automatic_steps

    lease = lease or lease_length()
    now = utcnow()
    begin_write_transaction()
    query = due_automatic_steps(now).limit(limit)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=JourneyStep)
    steps = list(db.session.scalars(query))
    for step in steps:
        step.locked_until = now + lease
    db.session.commit()
    return [step.id for step in steps]
