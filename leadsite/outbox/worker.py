"""The worker: claims due outbox messages and due journey steps in small batches, and runs them;
between batches, it takes a turn at a CSV import (`leads/imports/job.py`).

Claims are leases: a claimed message is locked until `locked_until`; a worker that dies
mid-delivery leaves it to be claimed again when the lease expires, with the same id (the
webhook-id), so receivers can drop the duplicate. PostgreSQL claims with FOR UPDATE SKIP LOCKED,
so any number of workers share the work; SQLite serializes claims with its write lock. An idle
worker polls; on PostgreSQL it is woken at once by the commit of new work (LISTEN/NOTIFY).

A batch of messages costs two transactions whatever its size: the claim with a read of its
endpoints and workspaces, and the record of its outcomes. Its webhooks go to the worker's lanes
(`outbox.lanes`), endpoint by endpoint; the worker waits for them a moment (`PATIENCE_SECONDS`)
while it sends the emails and SMS, records what is done and goes on: a webhook still being sent
(a slow or dead receiver) stays leased, its endpoint is not claimed from meanwhile, and its
outcome is recorded by a later turn of the loop, so that it delays no one else's messages.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from flask import Flask, current_app

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import JourneyStep
from leadsite.outages import is_outage
from leadsite.outbox import housekeeping
from leadsite.outbox.claims import (
    BATCH_SIZE,
    STEP_BATCH_SIZE,
    claim_messages,
    claim_steps,
    lease_length,
)
from leadsite.outbox.delivery import Outcome, deliver_batch, load_batch
from leadsite.outbox.lanes import Lanes, Settled
from leadsite.outbox.listener import Listener
from leadsite.outbox.outcomes import record_batch

log = logging.getLogger(__name__)

# An idle worker looks for new messages this often: a webhook waits 0.1 s for it on average.
IDLE_SECONDS = 0.2
# How long a batch waits for its webhooks before recording what is done and going on.
# Longer, and they are recorded by a later turn of the loop (a transaction more); shorter than
# the next registration's wait for its webhook or email, on a busy machine.
PATIENCE_SECONDS = 0.25
# What the lanes finish later is recorded once they are idle, or after this long.
RECORD_AFTER_SECONDS = 1.0
# While the database is unreachable the worker looks again after a wait that doubles from
# `idle_seconds` up to this: an outage costs a line in the log, not a traceback per poll.
OUTAGE_MAX_WAIT_SECONDS = 5.0


def run_steps(stop: threading.Event | None = None, limit: int = STEP_BATCH_SIZE) -> int:
    """Run a batch of due automatic steps, each in its own transaction.

    A step's staff-written texts are rendered first, with no transaction open, so that the
    write lock is not held while they render (`journeys.prerender`)."""
    from leadsite.journeys.emails import prerendered
    from leadsite.journeys.engine import run_step
    from leadsite.journeys.prerender import prerender_step

    done = 0
    for step_id in claim_steps(limit):
        if stop is not None and stop.is_set():
            break
        try:
            with prerendered():
                prerender_step(step_id)
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


def deliver_messages(
    stop: threading.Event | None = None, limit: int = BATCH_SIZE, lanes: Lanes | None = None
) -> int:
    """Claim, deliver and record one batch of messages; returns how many attempts were recorded,
    or with `lanes`, how many messages were claimed (the worker looks again at once if any).

    Without `lanes` the batch's webhooks are sent by lanes of its own and all recorded before
    this returns. With the worker's `lanes`, what they finished since the last batch is
    recorded first, and this batch's webhooks not done within `PATIENCE_SECONDS` are left to
    them, recorded by a later call. Attempts stop starting when `stop` is set or half the lease
    has passed (the outcomes must be recorded before another worker may claim the messages);
    the rest are released.
    """
    if lanes is None:
        with Lanes(current_app.config["WEBHOOK_ALLOW_PRIVATE"]) as own:
            return _deliver(stop, limit, own, patience=None)
    if lanes.ready(RECORD_AFTER_SECONDS):
        record_settled(lanes.take())
    return _deliver(stop, limit, lanes, PATIENCE_SECONDS, count_claimed=True)


def _deliver(
    stop: threading.Event | None,
    limit: int,
    lanes: Lanes,
    patience: float | None,
    count_claimed: bool = False,
) -> int:
    lease = lease_length()
    deadline = time.monotonic() + lease.total_seconds() / 2
    messages = claim_messages(limit, lease, commit=False, busy=lanes.busy())
    if not messages:
        db.session.commit()
        return 0

    def keep_going() -> bool:
        return not (stop is not None and stop.is_set()) and time.monotonic() < deadline

    try:
        batch = load_batch(messages)  # commits the claim
        outcomes, handed = deliver_batch(messages, batch, keep_going, lanes)
    except Exception:
        db.session.rollback()
        log.exception("a batch of %d messages failed; retried after its lease", len(messages))
        return 0
    lanes.wait(handed, patience)
    own = {message.id for message in messages} - handed
    recorded = record_settled(lanes.take(), own, outcomes)
    return len(messages) if count_claimed else recorded


def record_settled(
    settled: Settled, others: set[str] | None = None, outcomes: dict[str, Outcome] | None = None
) -> int:
    """Record what the lanes settled, with the batch's `others` (emails, SMS, webhooks not
    handed over) and their `outcomes`, in one transaction; then settle the webhook steps
    waiting on them. Returns how many attempts were recorded."""
    ids = settled.ids() | (others or set())
    if not ids:
        return 0
    outcomes = {**(outcomes or {}), **settled.outcomes}
    try:
        recorded = record_batch(ids, outcomes, settled.deferred)
    except Exception:
        db.session.rollback()
        log.exception("recording %d messages failed; retried after their lease", len(ids))
        return 0
    settle_steps([m.id for m in recorded if m.step_id and m.id in outcomes])
    return len(outcomes)


def settle_steps(message_ids: list[str]) -> None:
    """Complete or fail the webhook steps waiting on these messages, now their outcomes are
    recorded (after that transaction: a step locks its lead, then its journey)."""
    if not message_ids:
        return
    from leadsite.journeys.webhook_steps import settle_steps as settle

    settle(message_ids)


def run_imports(stop: threading.Event | None = None) -> int:
    """A turn at the CSV imports (`leads/imports/job.py`): a few seconds of one, leased."""
    from leadsite.leads.imports.job import run_imports as run

    return run(stop)


def run_once(
    stop: threading.Event | None = None, limit: int = BATCH_SIZE, lanes: Lanes | None = None
) -> int:
    """Deliver a batch of messages, run a batch of due journey steps, then a slice of a CSV
    import; returns how many messages, steps and import chunks were done. With the worker's
    `lanes`, slow webhooks are left to them (`deliver_messages`)."""
    done = deliver_messages(stop, limit, lanes)
    if stop is None or not stop.is_set():
        done += run_steps(stop)
    if stop is None or not stop.is_set():
        done += run_imports(stop)
    return done


def run(app: Flask, stop: threading.Event, idle_seconds: float = IDLE_SECONDS) -> None:
    """Deliver until `stop` is set; the deliveries under way are always finished, and recorded,
    first.

    Idle, it waits `idle_seconds` before looking again; on PostgreSQL it waits on a LISTEN
    connection instead, which wakes it at the commit of new work (`outbox.listener`). What its
    lanes finish meanwhile is recorded when it looks again: an end of a send does not wake it
    (a drain of one slow endpoint recorded its messages a few at a time, 4.5 ms of CPU each).
    """
    log.info("worker started")
    with app.app_context():
        listener = Listener.for_engine(db.engine) if app.config["WORKER_LISTEN"] else None
    lanes = Lanes(app.config["WEBHOOK_ALLOW_PRIVATE"])
    if listener is not None:
        listener.connect()  # before the first look, so nothing committed after it is missed
    housekeeping_at = 0.0
    outage = _Outage(idle_seconds)
    try:
        while not stop.is_set():
            with app.app_context():
                try:
                    done = run_once(stop, lanes=lanes)
                    if time.monotonic() >= housekeeping_at and not stop.is_set():
                        housekeeping_at = time.monotonic() + housekeeping.EVERY_SECONDS
                        housekeeping.run()
                    outage.over()
                except Exception as error:
                    if is_outage(error):
                        outage.seen(error)
                    else:
                        log.exception("worker loop error; retrying")
                    done = 0
                finally:
                    with contextlib.suppress(Exception):  # a dead connection: the pool drops it
                        db.session.remove()
            if outage.since is not None:
                stop.wait(outage.wait)
                continue
            if done:
                continue
            if listener is not None:  # a send that ends meanwhile is recorded at the next look
                listener.wait(idle_seconds, stop)
            else:
                stop.wait(idle_seconds)
    finally:
        if listener is not None:
            listener.close()
        _finish(app, lanes)
    log.info("worker stopped")


def _finish(app: Flask, lanes: Lanes) -> None:
    """Let the sends under way finish, release the messages not started, and record them."""
    lanes.close()
    with app.app_context():
        try:
            record_settled(lanes.take())
        finally:
            with contextlib.suppress(Exception):
                db.session.remove()


class _Outage:
    """The database being away, as the worker loop sees it: one warning when it goes, one when
    it is back, and a wait between looks that doubles up to `OUTAGE_MAX_WAIT_SECONDS`."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self.since: float | None = None
        self.wait = idle_seconds

    def seen(self, error: Exception) -> None:
        if self.since is None:
            self.since = time.monotonic()
            self.wait = max(self.idle_seconds, 0.05)
            first_line = (str(error).splitlines() or [type(error).__name__])[0][:300]
            log.warning("database unavailable; the worker waits for it: %s", first_line)
        else:
            self.wait = min(self.wait * 2, OUTAGE_MAX_WAIT_SECONDS)

    def over(self) -> None:
        if self.since is not None:
            log.warning("database back after %.1f s; the worker goes on", self._lasted())
            self.since = None
            self.wait = self.idle_seconds

    def _lasted(self) -> float:
        return time.monotonic() - (self.since or time.monotonic())


def start_inline(app: Flask) -> threading.Thread:
    """Run the worker as a daemon thread of this process (`make run`)."""
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(app, stop), name="leadsite-worker", daemon=True)
    thread.start()
    app.extensions["leadsite_worker"] = (thread, stop)
    return thread
