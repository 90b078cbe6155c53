"""Engine set-up: SQLite gets WAL, foreign keys, a busy timeout, and explicit BEGIN modes."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Execution option naming the BEGIN mode of a SQLite transaction; see `write_transaction`.
SQLITE_BEGIN = "sqlite_begin"


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # SQLAlchemy emits BEGIN itself (below) instead of the driver's implicit, late BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def write_transaction_options(dialect_name: str) -> dict[str, str]:
    """Options for a transaction that will write after reading.

    On SQLite a deferred transaction that reads, then writes, fails with "database is locked"
    when another writer got in between (the busy timeout cannot help: its snapshot is stale).
    BEGIN IMMEDIATE takes the write lock first, so concurrent writers queue instead.
    """
    return {SQLITE_BEGIN: "IMMEDIATE"} if dialect_name == "sqlite" else {}


def begin_write_transaction() -> None:
    """Start the session's transaction with the write lock when on SQLite (no-op elsewhere).

    Requests that change data (POST, PATCH, DELETE) call this first, so two of them that read
    then write queue up instead of failing; reads keep SQLite's concurrent snapshots.
    """
    from leadsite.extensions import db

    if db.engine.dialect.name == "sqlite" and not db.session().in_transaction():
        db.session.connection(execution_options={SQLITE_BEGIN: "IMMEDIATE"})


def holds_write_lock() -> bool:
    """Whether the session's transaction already began with the write lock (SQLite), or the
    database needs no lock taken up front (PostgreSQL)."""
    from leadsite.extensions import db

    if db.engine.dialect.name != "sqlite":
        return True
    session = db.session()
    if not session.in_transaction():
        return False
    return session.connection().get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE"
