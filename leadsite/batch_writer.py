"""Writes that need not hold up a request: items queued in the process, written by a background
thread in batches, every so often, in transactions of their own.

The ingestion log (`ingestion.writer`) and the analytics counters (`analytics.counter_writer`)
both use it: a request hands `add()` what is to be written and goes on. Every `interval`
seconds (the app's `setting`, 0.5 by default) a daemon thread of the process takes what came in
and hands it to `write_batch`, which a subclass defines. With `interval = 0` (the test suite's
setting) each item is written as soon as it is added, in the caller's thread. What is lost in a
crash is the last interval's items.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from leadsite.database import TRANSIENT_SQLSTATES, write_transaction_options, writers_turn
from leadsite.extensions import db

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.5
Item = TypeVar("Item")
Row = dict[str, Any]


class BatchWriter(Generic[Item]):
    """One per app, process and kind of item: a queue, and the thread that empties it."""

    name = "batch-writer"  # the thread's name, and what the log says could not be written
    setting = ""  # the app's setting of the interval, in seconds
    max_batch = 500  # rows a transaction at the most (`write_rows`)

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config.get(self.setting, DEFAULT_INTERVAL))
        self._pending: deque[Item] = deque()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        # PostgreSQL: the writer's own connection, kept between batches (`alone`).
        self._connection: Connection | None = None
        self._connection_pid = 0

    def add(self, item: Item) -> None:
        """Queue an item; with no interval, write it now."""
        self._pending.append(item)
        if self.interval <= 0:
            self.flush()
        elif self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            self._start()

    def flush(self) -> int:
        """Write every queued item now; returns what `write_batch` says it wrote.

        SQLite's writers' turn is taken before this writer's own lock, in the order every
        writer takes them: a registration that holds the turn and counts (with no interval, a
        flush) would otherwise wait for a flush that waits for its turn.
        """
        if not self._pending:
            return 0
        with self.app.app_context(), writers_turn(), self._flushing:
            items = self._take()
            if not items:
                return 0
            return self.write_batch(items)

    def write_batch(self, items: list[Item]) -> int:
        raise NotImplementedError

    def write_rows(self, rows: list[Row], write: Callable[[list[Row]], None], what: str) -> int:
        """Write the rows with `write`, `max_batch` at a time (see `write_or_split`)."""
        return sum(
            write_or_split(rows[start : start + self.max_batch], write, what)
            for start in range(0, len(rows), self.max_batch)
        )

    def stop(self) -> int:
        """Write what is queued and end the thread (at exit; a test's own writer)."""
        self.interval = 0
        self._wake.set()
        written = self.flush()
        with self._flushing:
            self._close_connection()
        return written

    def alone(self, statement: Callable[[Connection], None]) -> None:
        """Run a batch's one statement on PostgreSQL: on the writer's own connection, kept
        between batches, in autocommit with `synchronous_commit` off, so that the statement is
        its own transaction and one round trip.

        A batch of a few items (what one process gets in 0.5 s at moderate load) cost about
        2 ms of CPU in Python and the backend when it took a pooled connection each time: the
        pool's ping, BEGIN, SET LOCAL, the statement and COMMIT, each a round trip
        (`bench/ingest_log.py --batch 5`). A connection lost meanwhile (a restart) is replaced
        once; a database that is away fails the batch (`write_or_split`). A writer with no
        interval (writing in the caller's thread, as in the test suite) keeps no connection."""
        if self.interval <= 0:
            with db.engine.connect() as connection:
                statement(connection.execution_options(isolation_level="AUTOCOMMIT"))
            return
        for attempt in (1, 2):
            connection = self._own_connection()
            try:
                statement(connection)
                return
            except DBAPIError as error:
                self._close_connection()
                if not error.connection_invalidated or attempt == 2:
                    raise

    def _own_connection(self) -> Connection:
        if self._connection is None or self._connection_pid != os.getpid():
            # After a fork the parent's connection is left alone (its socket is the parent's).
            connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("SET synchronous_commit TO OFF")
            self._connection, self._connection_pid = connection, os.getpid()
        return self._connection

    def _close_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._connection_pid == os.getpid():
            try:
                connection.invalidate()  # not back to the pool: its settings are this writer's
                connection.close()
            except SQLAlchemyError:
                pass

    def _take(self) -> list[Item]:
        # popleft is atomic: items added meanwhile wait for the next turn, none is lost.
        return [self._pending.popleft() for _ in range(len(self._pending))]

    def _start(self) -> None:
        # After a fork (gunicorn's workers) the parent's thread is not running here.
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        _name_thread(self.name)
        while self.interval > 0:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the database is away: keep the thread, try at the next turn
                log.exception("%s: a batch could not be written", self.name)


def _name_thread(name: str) -> None:
    """Give the thread its name in the system too (Linux: /proc/<pid>/task/<tid>/comm, `top -H`),
    so that its CPU can be told from the requests' (`bench/register.py --compare-log`)."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux
        pass


PR_SET_NAME = 15


def write_or_split(rows: list[Row], write: Callable[[list[Row]], None], what: str) -> int:
    """Write the rows in one transaction; should that fail (a row whose parent was deleted
    meanwhile), one by one, leaving out those the database refuses. Returns how many were
    written.

    A database that is away (or locked past the busy timeout) refuses every row alike: what
    is left of the batch is then given up with one message, not one per row."""
    try:
        write(rows)
        return len(rows)
    except SQLAlchemyError as error:
        if _unavailable(error):
            log.error(
                "%s: %d not written, the database is unavailable", what, len(rows), exc_info=True
            )
            return 0
        if len(rows) == 1:
            log.warning("%s was refused", what, exc_info=True)
            return 0
    written = 0
    for index, row in enumerate(rows):
        try:
            write([row])
            written += 1
        except SQLAlchemyError as error:
            if _unavailable(error):
                left = len(rows) - index
                log.error(
                    "%s: %d not written, the database is unavailable", what, left, exc_info=True
                )
                return written
            log.warning("%s was refused", what, exc_info=True)
    return written


def _unavailable(error: SQLAlchemyError) -> bool:
    """Whether no row could be written now: a lost or refused connection, a lock not granted
    (OperationalError), rather than a row the database refuses (IntegrityError, DataError)."""
    if getattr(getattr(error, "orig", None), "sqlstate", None) in TRANSIENT_SQLSTATES:
        return False  # a deadlock or serialization failure lost by this batch: split it
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


@contextmanager
def batch_transaction() -> Iterator[Connection]:
    """A connection in a write transaction of its own, after SQLite's other writers in line; on
    PostgreSQL its commit does not wait for the WAL to reach the disk (what a crash loses is
    the batch, as it would have lost the queue)."""
    dialect = db.engine.dialect.name
    with writers_turn(), db.engine.connect() as connection:
        connection = connection.execution_options(**write_transaction_options(dialect))
        with connection.begin():
            if dialect == "postgresql":
                connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
            yield connection


def read_fresh() -> None:
    """Let the session read what was committed since its transaction began (a batch just
    written): a SQLite read transaction keeps its snapshot, so a session with nothing of its
    own to write ends it; the next query begins another."""
    session = db.session()
    clean = not (session.new or session.dirty or session.deleted)
    if db.engine.dialect.name == "sqlite" and session.in_transaction() and clean:
        session.commit()
