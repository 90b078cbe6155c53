"""What the worker clears now and then: ingestion log entries past their 30 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import IngestionEntry, utcnow

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
