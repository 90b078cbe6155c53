"""The worker: claims due outbox messages and due journey steps in small batches, and runs them.

Claims are leases: a claimed message is locked until `locked_until`; a worker that dies
mid-delivery leaves it to be claimed again when the lease expires, with the same id (the
webhook-id), so receivers can drop the duplicate. PostgreSQL claims with FOR UPDATE SKIP LOCKED,
so any number of workers share the work; SQLite serializes claims with its write lock.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask, current_app

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import JourneyStep, MessageStatus, OutboxMessage, utcnow
from leadsite.outbox.delivery import deliver

log = logging.getLogger(__name__)

BATCH_SIZE = 20
IDLE_SECONDS = 0.5


def claim_messages(limit: int = BATCH_SIZE, lease: timedelta | None = None) -> list[str]:
    """Lock up to `limit` due messages for this worker and return their ids."""
    lease = lease or timedelta(seconds=current_app.config["WORKER_LEASE_SECONDS"])
    now = utcnow()
    begin_write_transaction()
    query = (
        db.select(OutboxMessage)
        .where(
            OutboxMessage.status == MessageStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            db.or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    messages = list(db.session.scalars(query))
    for message in messages:
        message.locked_until = now + lease
    db.session.commit()
    return [message.id for message in messages]


def claim_steps(limit: int = BATCH_SIZE, lease: timedelta | None = None) -> list[str]:
    """Lock up to `limit` due automatic journey steps for this worker; return their ids."""
    from leadsite.journeys.engine import due_automatic_steps

    lease = lease or timedelta(seconds=current_app.config["WORKER_LEASE_SECONDS"])
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


def run_steps(stop: threading.Event | None = None, limit: int = BATCH_SIZE) -> int:
    """Run a batch of due automatic steps, each in its own transaction."""
    from leadsite.journeys.engine import run_step

    done = 0
    for step_id in claim_steps(limit):
        if stop is not None and stop.is_set():
            break
        try:
            begin_write_transaction()
            step = db.session.get(JourneyStep, step_id)
            if step is not None:
                run_step(step)
            db.session.commit()
            done += 1
        except Exception:
            db.session.rollback()
            log.exception("running step %s failed; it will be retried after its lease", step_id)
    return done


def run_once(stop: threading.Event | None = None, limit: int = BATCH_SIZE) -> int:
    """Claim and deliver one batch; returns how many messages were attempted."""
    done = 0
    for message_id in claim_messages(limit):
        if stop is not None and stop.is_set():
            break  # unattempted claims are released when their lease ends
        try:
            if deliver(message_id) is not None:
                done += 1
        except Exception:
            db.session.rollback()
            log.exception("delivering %s failed; it will be retried after its lease", message_id)
    done += run_steps(stop, limit)
    return done


def run(app: Flask, stop: threading.Event, idle_seconds: float = IDLE_SECONDS) -> None:
    """Deliver until `stop` is set; the message in hand is always finished first."""
    log.info("worker started")
    while not stop.is_set():
        with app.app_context():
            try:
                done = run_once(stop)
            except Exception:
                log.exception("worker loop error; retrying")
                done = 0
            finally:
                db.session.remove()
        if not done:
            stop.wait(idle_seconds)
    log.info("worker stopped")


def start_inline(app: Flask) -> threading.Thread:
    """Run the worker as a daemon thread of this process (`make run`)."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop), name="leadsite-worker", daemon=True)
    thread.start()
    app.extensions["leadsite_worker"] = (thread, stop)
    return thread
