"""The ingestion log's writer: entries are made and written by a background thread, in batches.

A call answered through an origin hands `add()` what its entry is made of, captured cheaply
(`record.CallRecord`), and the request goes on: redacting the body and writing the row cost a
registration nothing. Every `INGEST_LOG_FLUSH_SECONDS` (0.5 s by default) a thread of the
process makes the entries that came in and inserts them in one transaction, which on SQLite
waits its turn for the write lock like any writer, and on PostgreSQL does not wait for the WAL
to reach the disk.

Reading the log (`list_entries`) flushes this process's entries first, so it sees every call
this process answered; another process's entries arrive within the interval. Erasing a lead
writes this process's queued entries in its own transaction (`write_here`), and the entries of a
batch the thread has taken but not written yet are redacted as they are inserted, should the
erasure have committed meanwhile (`Erased`).
What is lost in a crash is the last interval's diagnostics, nothing a lead depends on. With
`INGEST_LOG_FLUSH_SECONDS = 0` (the test suite's setting) each entry is written as soon as its
call is answered, in the request's thread.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from leadsite.batch_writer import BatchWriter, batch_transaction
from leadsite.extensions import db
from leadsite.ingestion.redact import storable
from leadsite.models import IngestionEntry, Lead

log = logging.getLogger(__name__)

EXTENSION = "leadsite.ingestion_log"
INSERT_ENTRIES = insert(IngestionEntry.__table__)
# On PostgreSQL a batch is one statement with one parameter, its rows as a JSON array: one
# parse, plan and round trip for the batch, and no per-row, per-column conversion in Python
# (an executemany binds and sends every row's every column).
_COLUMNS = {
    "id": "varchar",
    "workspace_id": "varchar",
    "origin_id": "varchar",
    "lead_id": "varchar",
    "at": "timestamptz",
    "dialect": "varchar",
    "outcome": "varchar",
    "status": "integer",
    "codes": "jsonb",
    "message": "text",
    "method": "varchar",
    "query": "text",
    "body": "text",
    "details": "jsonb",
}
INSERT_JSON_ROWS = text(
    f"INSERT INTO {IngestionEntry.__tablename__} ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(_COLUMNS)} FROM jsonb_to_recordset(CAST(:rows AS jsonb)) "
    f"AS r({', '.join(f'{name} {kind}' for name, kind in _COLUMNS.items())})"
)

Maker = Callable[[], dict[str, Any]]  # makes an entry's row (in the writer's app context)


# What an erasure empties in the entries that name the lead.
ERASED_COLUMNS = ("body", "query", "message", "details")


@dataclass(frozen=True)
class Erased:
    """A lead being erased, as its entries are recognised: by its id, or by its email, phone
    or unique id in the text of a call (the erasure's own UPDATE matches the same)."""

    workspace_id: str
    lead_id: str
    values: tuple[str, ...]

    def names(self, row: dict[str, Any]) -> bool:
        if row["workspace_id"] != self.workspace_id:
            return False
        if row["lead_id"] == self.lead_id:
            return True
        texts = [(row.get(name) or "").lower() for name in ("body", "query")]
        return any(value.lower() in text for value in self.values for text in texts)


class LogWriter(BatchWriter[Maker]):
    """One per app and process: a queue of entries to make, and the thread that writes them."""

    name = "ingestion-log"
    setting = "INGEST_LOG_FLUSH_SECONDS"

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._guard = threading.Lock()  # held for no I/O: the queue and `_late` together
        # The erasures that ran while a batch was taken and not yet written (SQLite).
        self._late: list[Erased] | None = None

    def write_batch(self, items: list[Maker]) -> int:
        """Make the entries and insert them."""
        try:
            return self.write_rows(_make(items), self._insert, "an ingestion log entry")
        finally:
            with self._guard:
                self._late = None

    def write_here(self, erased: Erased) -> None:
        """Make every queued entry and insert them in the session's own transaction: for an
        erasure, which holds the write lock and must see them.

        On PostgreSQL it first waits for a batch being written (it may commit after the
        erasure's UPDATE began and escape it). On SQLite it must not: such a batch waits for
        the write lock this erasure holds, after its writers' turn and `_flushing`. It is
        written after the erasure's commit, then, and redacts the lead's entries itself.
        """
        if db.engine.dialect.name == "sqlite":
            self._write_here(erased)
        else:
            with self._flushing:
                self._write_here(erased)

    def _write_here(self, erased: Erased) -> None:
        with self._guard:
            if self._late is not None:
                self._late.append(erased)
            rows = _make(super()._take())
        if rows:
            insert_rows(db.session.connection(), rows)

    def _take(self) -> list[Maker]:
        """A batch's items (`flush`, holding `_flushing`); erasures from now on are noted."""
        with self._guard:
            items = super()._take()
            self._late = []
            return items

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        if db.engine.dialect.name == "postgresql":
            self.alone(lambda connection: insert_rows(connection, rows))
            return
        with batch_transaction() as connection:
            with self._guard:
                late = list(self._late or ())
            if late:  # after their commit: this transaction holds SQLite's write lock
                rows = _redact_erased(connection, rows, late)
            insert_rows(connection, rows)


def _redact_erased(
    connection: Connection, rows: list[dict[str, Any]], late: list[Erased]
) -> list[dict[str, Any]]:
    """The rows, those that name a lead erased meanwhile redacted (not those of an erasure
    that was rolled back)."""
    named = [erased for erased in late if any(erased.names(row) for row in rows)]
    if not named:
        return rows
    ids = [erased.lead_id for erased in named]
    gone = set(
        connection.scalars(select(Lead.id).where(Lead.id.in_(ids), Lead.erased_at.is_not(None)))
    )
    erased = [each for each in named if each.lead_id in gone]
    return [
        {**row, **dict.fromkeys(ERASED_COLUMNS)} if any(each.names(row) for each in erased) else row
        for row in rows
    ]


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


def write_here(erased: Erased) -> None:
    """Insert this process's queued entries in the session's transaction, for the erasure of
    a lead (see `LogWriter.write_here`)."""
    writer: LogWriter | None = current_app.extensions.get(EXTENSION)
    if writer is not None:
        writer.write_here(erased)


def _make(makers: list[Maker]) -> list[dict[str, Any]]:
    rows = []
    for make in makers:
        try:
            # A refused call's text may hold what no column can: without this its entry was
            # refused (PostgreSQL), or lost its whole batch with it (SQLite's driver raises).
            rows.append(storable(make()))
        except Exception:
            log.exception("an ingestion log entry could not be made")
    return rows


# Elsewhere (SQLite) the driver's own executemany, with the rows' JSON and times already in
# the form SQLAlchemy would store them: its per-row, per-column bind processing cost more than
# the insert.
INSERT_PLAIN_ROWS = (
    f"INSERT INTO {IngestionEntry.__tablename__} ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite


def insert_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert entries' rows (every column of `entries.entry_row`, `at` in UTC): in one
    statement on PostgreSQL, by the driver's executemany on SQLite."""
    if connection.dialect.name == "postgresql":
        connection.execute(INSERT_JSON_ROWS, {"rows": json.dumps(rows, default=_iso)})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql(INSERT_PLAIN_ROWS, [_plain(row) for row in rows])
    else:
        connection.execute(INSERT_ENTRIES, rows)


def _plain(row: dict[str, Any]) -> tuple[Any, ...]:
    details = row["details"]
    plain = {
        **row,
        "at": row["at"].astimezone(UTC).strftime(SQLITE_TIME),
        "codes": json.dumps(row["codes"]),
        "details": None if details is None else json.dumps(details),
    }
    return tuple(plain[name] for name in _COLUMNS)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
