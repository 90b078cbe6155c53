"""The ingestion log's writer: entries are made and written by a background thread, in batches.

A call answered through an origin hands `add()` what its entry is made of, captured cheaply
(`record.CallRecord`), and the request goes on: redacting the body and writing the row cost a
registration nothing. Every `INGEST_LOG_FLUSH_SECONDS` (0.5 s by default) a thread of the
process makes the entries that came in and inserts them in one transaction, which on SQLite
waits its turn for the write lock like any writer, and on PostgreSQL does not wait for the WAL
to reach the disk.

Reading the log (`list_entries`) and erasing a lead flush this process's entries first, so they
see every call this process answered; another process's entries arrive within the interval.
What is lost in a crash is the last interval's diagnostics, nothing a lead depends on. With
`INGEST_LOG_FLUSH_SECONDS = 0` (the test suite's setting) each entry is written as soon as its
call is answered, in the request's thread.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import insert

from leadsite.batch_writer import BatchWriter, batch_transaction
from leadsite.extensions import db
from leadsite.models import IngestionEntry

log = logging.getLogger(__name__)

EXTENSION = "leadsite.ingestion_log"
INSERT_ENTRIES = insert(IngestionEntry.__table__)

Maker = Callable[[], dict[str, Any]]  # makes an entry's row (in the writer's app context)


class LogWriter(BatchWriter[Maker]):
    """One per app and process: a queue of entries to make, and the thread that writes them."""

    name = "ingestion-log"
    setting = "INGEST_LOG_FLUSH_SECONDS"

    def write_batch(self, items: list[Maker]) -> int:
        """Make the entries and insert them."""
        return self.write_rows(_make(items), _insert, "an ingestion log entry")

    def write_here(self) -> None:
        """Make every queued entry and insert them in the session's own transaction: for a
        caller that holds the write lock (an erasure) and must see them."""
        with self._flushing:
            rows = _make(self._take())
            if rows:
                db.session.connection().execute(INSERT_ENTRIES, rows)


def init_app(app: Flask) -> None:
    writer = app.extensions[EXTENSION] = LogWriter(app)
    atexit.register(writer.stop)


def add(maker: Maker) -> None:
    current_app.extensions[EXTENSION].add(maker)


def flush() -> int:
    """Write this process's queued entries now, before reading the log. Never call it while
    holding SQLite's write lock (see `write_here`)."""
    writer: LogWriter | None = current_app.extensions.get(EXTENSION)
    return writer.flush() if writer is not None else 0


def write_here() -> None:
    """Insert this process's queued entries in the session's transaction (see `LogWriter`)."""
    writer: LogWriter | None = current_app.extensions.get(EXTENSION)
    if writer is not None:
        writer.write_here()


def _make(makers: list[Maker]) -> list[dict[str, Any]]:
    rows = []
    for make in makers:
        try:
            rows.append(make())
        except Exception:
            log.exception("an ingestion log entry could not be made")
    return rows


def _insert(rows: list[dict[str, Any]]) -> None:
    with batch_transaction() as connection:
        connection.execute(INSERT_ENTRIES, rows)
