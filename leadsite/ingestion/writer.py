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
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from leadsite.batch_writer import BatchWriter, batch_transaction
from leadsite.extensions import db
from leadsite.models import IngestionEntry

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
                insert_rows(db.session.connection(), rows)


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
        insert_rows(connection, rows)


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
