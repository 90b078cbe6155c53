"""The worker's wake-up on PostgreSQL: a connection of its own that LISTENs on the outbox channel.

An idle worker waits on it instead of sleeping: `wait()` returns as soon as a transaction that
queued work due now commits (its NOTIFY, `outbox.wake`), else after the idle poll interval, when
the worker polls as before (work due later: retries, delays). A lost connection is closed and
the worker goes on polling; it connects again at most once an interval, and after connecting it
polls once, for what was committed while nobody listened.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from leadsite.outbox.wake import CHANNEL

log = logging.getLogger(__name__)

APPLICATION_NAME = "leadsite worker (LISTEN)"
# How often a wait looks at the worker's stop event: the longest a stop waits for an idle worker.
STOP_CHECK_SECONDS = 0.25
CONNECT_TIMEOUT_SECONDS = 5
# A dead server is noticed within 10 + 3 * 5 s of silence.
KEEPALIVE_IDLE_SECONDS = 10
KEEPALIVE_INTERVAL_SECONDS = 5
KEEPALIVE_COUNT = 3


class Listener:
    """One worker's LISTEN connection (not from the pool: it stays open, idle)."""

    def __init__(self, connect_args: tuple[Any, ...], connect_kwargs: dict[str, Any]) -> None:
        self._args = connect_args
        self._kwargs = {
            **connect_kwargs,
            "autocommit": True,  # LISTEN takes effect at once, and no transaction stays open
            "application_name": APPLICATION_NAME,
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            # A connection that only listens sends nothing: without keepalives a server gone
            # away (a restart, a link down) would leave it waiting forever, polling unseen.
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
            "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
            "keepalives_count": KEEPALIVE_COUNT,
        }
        self._connection: psycopg.Connection | None = None
        self._connect_at = 0.0  # monotonic time of the next attempt when not connected

    @classmethod
    def for_engine(cls, engine: Engine) -> Listener | None:
        """A listener on the engine's database, or None for SQLite (its workers poll)."""
        if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
            return None
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        return cls(tuple(args), dict(kwargs))

    def connect(self) -> bool:
        """Connect and LISTEN; False (logged) when the database cannot be reached."""
        self._connect_at = time.monotonic()
        connection = None
        try:
            connection = psycopg.connect(*self._args, **self._kwargs)
            connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            log.warning("cannot LISTEN for new outbox work (%s); polling", error)
            if connection is not None:
                with contextlib.suppress(psycopg.Error):
                    connection.close()
            return False
        self._connection = connection
        log.info("listening for new outbox work (channel %s)", CHANNEL)
        return True

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Wait up to `timeout` seconds for a notification, or until `stop` is set.

        True when the worker should look for work now: a notification came, or the listener
        has just connected again. Without a connection this is a plain sleep.
        """
        deadline = time.monotonic() + timeout
        if self._connection is None:
            if time.monotonic() >= self._connect_at + timeout and self.connect():
                return True
            stop.wait(timeout)
            return False
        connection = self._connection
        try:
            while not stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                notified = False
                for _ in connection.notifies(
                    timeout=min(remaining, STOP_CHECK_SECONDS), stop_after=1
                ):
                    notified = True
                if notified:
                    # Many commits make many notifications: one look for work serves them all.
                    for _ in connection.notifies(timeout=0):
                        pass
                    return True
            return False
        except psycopg.Error as error:
            log.warning("lost the LISTEN connection (%s); polling until it is back", error)
            self.close()
            self._connect_at = time.monotonic()
            stop.wait(max(0.0, deadline - time.monotonic()))
            return False

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(psycopg.Error):  # already broken: nothing to tell the server
                connection.close()
