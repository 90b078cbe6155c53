"""The ingestion log of every origin: redact a call, write its entry, list and prune entries."""

from leadsite.ingestion.entries import (
    KEEP_DAYS,
    EntryPage,
    InvalidCursor,
    list_entries,
    prune,
    write_entry,
)
from leadsite.ingestion.redact import REDACTED, redact, redact_text

__all__ = [
    "KEEP_DAYS",
    "REDACTED",
    "EntryPage",
    "InvalidCursor",
    "list_entries",
    "prune",
    "redact",
    "redact_text",
    "write_entry",
]
