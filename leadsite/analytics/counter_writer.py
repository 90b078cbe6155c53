"""The counters' writer: increments added up in the process, upserted in batches.

`counters.count()` queues the key of one increment and the request goes on. Every
`ANALYTICS_FLUSH_SECONDS` (0.5 s by default) a thread of the process adds up what came in, one
row per key, and upserts the rows in one transaction: `INSERT ... ON CONFLICT (the key of
uq_form_counts_key) DO UPDATE SET count = form_counts.count + excluded.count`, on SQLite and
PostgreSQL alike. Any number of processes on any number of hosts can do so at once: each adds
what it counted to what is stored, and none reads first. A busy page costs the database one
upsert per key and interval per process, however many views it had. On PostgreSQL the batch's
upsert is one statement on the writer's own connection, kept between batches
(`BatchWriter.alone`).

Readers flush this process's increments first (`counters.flush`); another process's arrive
within the interval. A crash loses the last interval's counts, nothing a lead depends on.
"""

from __future__ import annotations

import atexit
from collections import Counter
from datetime import date
from typing import NamedTuple

from flask import Flask, current_app
from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite

from leadsite.batch_writer import BatchWriter, Row, batch_transaction
from leadsite.extensions import db
from leadsite.models import FormCount

EXTENSION = "leadsite.analytics_counters"
KEY = ("origin_id", "day", "event", "field", "referrer_host", "utm_campaign")


class CountKey(NamedTuple):
    """What one increment counts: the columns of a `form_counts` row but its id and count."""

    workspace_id: str
    funnel_id: str
    origin_id: str
    day: date  # UTC
    event: str
    field: str = ""
    referrer_host: str = ""
    utm_campaign: str = ""


class CounterWriter(BatchWriter[CountKey]):
    """One per app and process: the increments counted since the last flush, and the thread."""

    name = "analytics-counters"
    setting = "ANALYTICS_FLUSH_SECONDS"

    def write_batch(self, items: list[CountKey]) -> int:
        """Add up the increments by key and upsert one row per key. Sorted by key, so that two
        processes upserting the same keys on PostgreSQL lock their rows in the same order."""
        totals = Counter(items)
        rows = [{**key._asdict(), "count": totals[key]} for key in sorted(totals)]
        return self.write_rows(rows, self._upsert, "a form count")

    def _upsert(self, rows: list[Row]) -> None:
        """On PostgreSQL one multi-row statement on the writer's own connection (`alone`): it
        is its own transaction, so a batch that fails has added nothing, and `write_or_split`
        can try its rows again one by one without counting any twice."""
        if db.engine.dialect.name == "postgresql":
            self.alone(lambda connection: connection.execute(_upsert_statement(rows)))
            return
        with batch_transaction() as connection:
            connection.execute(_upsert_statement(), rows)


def init_app(app: Flask) -> None:
    """Give the app its writer, unless counting is turned off (`count()` then does nothing)."""
    if not app.config.get("ANALYTICS_COUNTING", True):
        return
    writer = app.extensions[EXTENSION] = CounterWriter(app)
    atexit.register(writer.stop)


def _upsert_statement(rows: list[Row] | None = None) -> Insert:
    """The upsert of `rows` as one statement (PostgreSQL), or of one row to run with each
    row's values (`executemany`, SQLite)."""
    dialect = postgresql if rows is not None else sqlite
    statement = dialect.insert(FormCount.__table__)
    if rows is not None:
        statement = statement.values(rows)
    return statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={"count": FormCount.__table__.c.count + statement.excluded["count"]},
    )


def writer() -> CounterWriter | None:
    """This app's writer, when it has one (the app factory makes it)."""
    return current_app.extensions.get(EXTENSION)
