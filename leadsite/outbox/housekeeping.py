"""What the worker does now and then: clear ingestion log entries past their 30 days (and, in
`retention`, idempotency records and delivered outbox messages past theirs), cancel
double opt-in journeys not confirmed in time, and settle webhook steps whose delivery ended
while their worker stopped."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import IngestionEntry, utcnow
from leadsite.outbox import retention

log = logging.getLogger(__name__)

KEEP_DAYS = 30
PRUNE_BATCH = 1000
# How often a worker prunes: entries live 30 days and a quarter of an hour, at most.
EVERY_SECONDS = 15 * 60


def prune_ingestion_log(now: datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete entries older than `KEEP_DAYS`, a batch per transaction so that no write lock is
    held long (SQLite); returns how many were deleted."""
    cutoff = (now or utcnow()) - timedelta(days=KEEP_DAYS)
    deleted = 0
    while True:
        old = (
            db.select(IngestionEntry.id)
            .where(IngestionEntry.at < cutoff)
            .limit(batch)
            .scalar_subquery()
        )
        begin_write_transaction()
        result = db.session.execute(
            db.delete(IngestionEntry)
            .where(IngestionEntry.id.in_(old))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        count = result.rowcount or 0
        deleted += count
        if count < batch:
            return deleted


def run(now: datetime | None = None) -> None:
    """Every chore in turn; the worker calls it every `EVERY_SECONDS`."""
    # Imported here: the journeys are a service above the outbox, which must not import them.
    from leadsite.journeys.confirmation import cancel_unconfirmed
    from leadsite.journeys.webhook_steps import settle_finished_deliveries

    if pruned := prune_ingestion_log(now):
        log.info("pruned %d ingestion log entries past their keeping", pruned)
    if pruned := retention.prune_idempotency_records(now):
        log.info("pruned %d idempotency records past their 24 hours", pruned)
    if pruned := retention.prune_delivered_messages(now):
        log.info("pruned %d delivered outbox messages past their keeping", pruned)
    if cancelled := cancel_unconfirmed(now):
        log.info("cancelled %d journeys not confirmed in time", cancelled)
    if settled := settle_finished_deliveries():
        log.info("settled %d webhook steps whose delivery had ended", settled)
