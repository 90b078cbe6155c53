"""The ingestion log of every origin: redact a call, write its entry (in the background), list
and prune entries."""

from leadsite.ingestion.entries import (
    EntryPage,
    InvalidCursor,
    list_entries,
)
from leadsite.ingestion.redact import REDACTED, redact, redact_text
from leadsite.ingestion.writer import flush
from leadsite.outbox.housekeeping import KEEP_DAYS
from leadsite.outbox.housekeeping import prune_ingestion_log as prune

__all__ = [
    "KEEP_DAYS",
    "REDACTED",
    "EntryPage",
    "InvalidCursor",
    "flush",
    "list_entries",
    "prune",
    "redact",
    "redact_text",
]
