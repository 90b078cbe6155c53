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
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from sqlalchemy import insert, text
from sqlalchemy.exc import SQLAlchemyError

from leadsite.database import write_transaction_options, writers_turn
from leadsite.extensions import db
from leadsite.models import IngestionEntry

log = logging.getLogger(__name__)

EXTENSION = "leadsite.ingestion_log"
DEFAULT_FLUSH_SECONDS = 0.5
MAX_BATCH = 500
INSERT_ENTRIES = insert(IngestionEntry.__table__)

Maker = Callable[[], dict[str, Any]]  # makes an entry's row (in the writer's app context)


class LogWriter:
    """One per app and process: a queue of entries to make, and the thread that writes them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config.get("INGEST_LOG_FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS))
        self._pending: deque[Maker] = deque()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def add(self, maker: Maker) -> None:
        """Queue an entry; with no interval, write it now."""
        self._pending.append(maker)
        if self.interval <= 0:
            self.flush()
        elif self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._start()

    def flush(self) -> int:
        """Make and write every queued entry now, in transactions of their own; returns how
        many were written."""
        with self._flushing:
            makers = self._take()
            if not makers:
                return 0
            with self.app.app_context():
                rows = _make(makers)
                return sum(
                    _write(rows[start : start + MAX_BATCH])
                    for start in range(0, len(rows), MAX_BATCH)
                )

    def write_here(self) -> None:
        """Make every queued entry and insert them in the session's own transaction: for a
        caller that holds the write lock (an erasure) and must see them."""
        with self._flushing:
            rows = _make(self._take())
            if rows:
                db.session.connection().execute(INSERT_ENTRIES, rows)

    def _take(self) -> list[Maker]:
        return [self._pending.popleft() for _ in range(len(self._pending))]

    def _start(self) -> None:
        # After a fork (gunicorn's workers) the parent's thread is not running here.
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="ingestion-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while self.interval > 0:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database is away: keep the thread, try at the next turn
                log.exception("the ingestion log could not be written")


def init_app(app: Flask) -> None:
    writer = app.extensions[EXTENSION] = LogWriter(app)
    atexit.register(writer.flush)


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


def _write(rows: list[dict[str, Any]]) -> int:
    """Insert the rows in one transaction; should that fail (an origin deleted meanwhile), one
    by one, leaving out those the database refuses."""
    try:
        _insert(rows)
        return len(rows)
    except SQLAlchemyError:
        if len(rows) == 1:
            log.warning("an ingestion log entry was refused", exc_info=True)
            return 0
    return sum(_write([row]) for row in rows)


def _insert(rows: list[dict[str, Any]]) -> None:
    dialect = db.engine.dialect.name
    with writers_turn(), db.engine.connect() as connection:
        connection = connection.execution_options(**write_transaction_options(dialect))
        with connection.begin():
            if dialect == "postgresql":
                connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
            connection.execute(INSERT_ENTRIES, rows)
