"""The ingestion log of every origin: redact a call, write its entry, list and prune entries."""

from leadsite.ingestion.entries import (
    EntryPage,
    InvalidCursor,
    insert_entry,
    list_entries,
    write_entry,
)
from leadsite.ingestion.redact import REDACTED, redact, redact_text
from leadsite.outbox.housekeeping import KEEP_DAYS
from leadsite.outbox.housekeeping import prune_ingestion_log as prune

__all__ = [
    "KEEP_DAYS",
    "REDACTED",
    "EntryPage",
    "InvalidCursor",
    "insert_entry",
    "list_entries",
    "prune",
    "redact",
    "redact_text",
    "write_entry",
]
