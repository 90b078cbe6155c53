"""Engine set-up: SQLite gets WAL, foreign keys, a busy timeout, BEGIN modes and statistics."""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry, Pool

SQLITE_BUSY_TIMEOUT_MS = 15_000
# How often a pooled SQLite connection runs PRAGMA optimize, and how many rows of each index
# the ANALYZE it may run reads (SQLite 3.46 sets such a limit itself; older ones read them all).
SQLITE_OPTIMIZE_EVERY_S = 3600
SQLITE_ANALYSIS_LIMIT = 1000
# Execution option naming the BEGIN mode of a SQLite transaction; see `write_transaction`.
SQLITE_BEGIN = "sqlite_begin"
# SQLSTATEs of a PostgreSQL transaction that lost a deadlock or a serialization check: nothing
# it did stays, and running it again is the cure.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
# One statement for every lock, taken in the order of the keys given (the sort comes before the
# volatile call: PostgreSQL evaluates it on the sorted rows).
ADVISORY_XACT_LOCKS = text(
    "SELECT pg_advisory_xact_lock(key) FROM unnest(CAST(:keys AS bigint[])) "
    "WITH ORDINALITY AS locks(key, n) ORDER BY n"
)
_turn = threading.local()  # the SQLite databases whose writers' turn this thread holds


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


@event.listens_for(Pool, "checkin")
def _optimize_sqlite(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    """Run PRAGMA optimize when a connection comes back to the pool, an hour after it first
    came back, then once an hour.

    Nothing else gives SQLite planner statistics (sqlite_stat1): an install that grew to a
    million leads without them picks poor plans. The pragma analyzes only the tables whose
    indexes this connection used and that have no statistics or grew 25-fold since, so it is
    a no-op most times; with the analysis limit a table of a million rows takes milliseconds.
    It needs the write lock: if a writer holds it, it waits for the next check-in, not for
    the writer.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    now = time.monotonic()
    due = connection_record.info.setdefault("sqlite_optimize_at", now + SQLITE_OPTIMIZE_EVERY_S)
    if now < due:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        cursor.execute("PRAGMA optimize")
    except sqlite3.OperationalError:  # database is locked
        return
    finally:
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
    connection_record.info["sqlite_optimize_at"] = now + SQLITE_OPTIMIZE_EVERY_S


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


@contextmanager
def writers_turn() -> Iterator[None]:
    """Wait for this SQLite database's other writers in line, then hold the turn until the block
    ends. Wrap a whole write transaction (BEGIN IMMEDIATE ... COMMIT) in it; a no-op on
    PostgreSQL and for in-memory SQLite.

    A writer that finds SQLite's lock taken sleeps in the busy handler (1, 2, 5, 10 ms ...)
    before trying again, which under load leaves the lock free most of the time another writer
    waits. Writers that take their turn here instead block on an exclusive `flock` of a file
    beside the database, and the kernel wakes the next one the moment the holder is done.
    Writers that do not (short back-office writes) still meet at SQLite's lock, as before.
    Never call it while holding SQLite's write lock: a writer in line would then wait for you
    while you wait for it. A thread that has its turn already keeps it (a batch written right
    after a registration's commit, `batch_writer`): `flock` on a second descriptor would wait
    for the first.
    """
    from leadsite.extensions import db

    path = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:" or path.startswith("file:") or getattr(_turn, path, False):
        yield
        return
    descriptor = os.open(path + "-writers", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        setattr(_turn, path, True)
        yield
    finally:
        setattr(_turn, path, False)
        os.close(descriptor)  # releases the lock


def hold_named_locks(names: list[str]) -> None:
    """PostgreSQL: wait for, then hold until the transaction ends, an advisory lock on each
    name (a no-op on SQLite, whose writers take turns anyway).

    What two transactions must not do at once but that no row exists yet to lock (registering
    the same new email) is serialized on the name instead. The locks are taken in the order of
    their keys, so two transactions naming the same locks cannot deadlock on them.
    """
    from leadsite.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    keys = sorted({_lock_key(name) for name in names})
    if keys:  # one round trip for a batch's hundreds of identifiers
        db.session.execute(ADVISORY_XACT_LOCKS, {"keys": keys})


def _lock_key(name: str) -> int:
    """The signed 64-bit key of an advisory lock on `name`."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_transient(error: DBAPIError) -> bool:
    """Whether PostgreSQL aborted the transaction as a deadlock victim or a serialization
    failure: rolled back, it may simply be run again."""
    return getattr(error.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
