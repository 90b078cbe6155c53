"""The worker: claims due outbox messages in small batches and delivers them.

Claims are leases: a claimed message is locked until `locked_until`; a worker that dies
mid-delivery leaves it to be claimed again when the lease expires, with the same id (the
webhook-id), so receivers can drop the duplicate. PostgreSQL claims with FOR UPDATE SKIP LOCKED,
so any number of workers share the work; SQLite serializes claims with its write lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import MessageStatus, OutboxMessage, utcnow
from leadsite.outbox.delivery import deliver

log = logging.getLogger(__name__)

BATCH_SIZE = 20
IDLE_SECONDS = 0.5

# Extra kinds of due work (the journey engine's steps), each a callable returning how many it ran.
EXTRA_WORK: list[Callable[[], int]] = []


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
    for work in EXTRA_WORK:
        done += work()
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
