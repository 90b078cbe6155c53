"""The counters' writer: increments added up in the process, upserted in batches, added to
what other processes (other hosts) stored."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from leadsite.analytics import counter_writer
from leadsite.analytics.counter_writer import CounterWriter, CountKey
from leadsite.analytics.counters import count
from leadsite.extensions import db
from leadsite.models import FormCount, FormEvent, Origin, OriginKind, utcnow
from tests import factories
from tests.analytics.helpers import counts, stored
from tests.servers import eventually
from tests.statements import captured_statements


def writer_of(app: Flask, interval: float) -> CounterWriter:
    app.config["ANALYTICS_FLUSH_SECONDS"] = interval
    try:
        return CounterWriter(app)
    finally:
        app.config["ANALYTICS_FLUSH_SECONDS"] = 0


@pytest.fixture
def batching(app: Flask) -> Iterator[CounterWriter]:
    """This app's writer flushing every hour, as if the test ran between two flushes."""
    queue = app.extensions[counter_writer.EXTENSION] = writer_of(app, 3600)
    yield queue
    queue.stop()
    app.extensions[counter_writer.EXTENSION] = writer_of(app, 0)


def page_origin() -> Origin:
    return factories.origin(factories.staged_funnel(factories.workspace()), OriginKind.PAGE)


def view_of(origin: Origin) -> CountKey:
    """One view of `origin` today, as another process would queue it."""
    return CountKey(origin.workspace_id, origin.funnel_id, origin.id, utcnow().date(), "view")


def test_two_increments_of_one_key_are_one_row_with_count_two(batching):
    page = page_origin()

    count(page, FormEvent.VIEW, referrer_host="t.co")
    count(page, FormEvent.VIEW, referrer_host="t.co")
    count(page, FormEvent.START)
    assert stored(page, "view") == 0  # queued, not written

    assert counts(page) == {("view", "", "t.co", ""): 2, ("start", "", "", ""): 1}
    assert db.session.scalar(db.select(db.func.count(FormCount.id))) == 2


def test_counts_of_several_processes_add_up_in_the_database(app, batching):
    page = page_origin()
    elsewhere = writer_of(app, 3600)  # another process, on another host

    count(page, FormEvent.VIEW)
    count(page, FormEvent.VIEW)
    for _ in range(3):
        elsewhere.add(view_of(page))

    assert elsewhere.flush() == 1  # one upsert for its three views
    assert batching.flush() == 1
    elsewhere.add(view_of(page))
    elsewhere.stop()
    assert counts(page) == {("view", "", "", ""): 6}


def test_a_count_for_an_origin_deleted_meanwhile_is_dropped_and_the_rest_written(batching):
    page, gone = page_origin(), page_origin()
    count(page, FormEvent.VIEW)
    count(gone, FormEvent.VIEW)
    db.session.delete(gone)
    db.session.commit()

    assert batching.flush() == 1
    assert counts(page) == {("view", "", "", ""): 1}


def test_the_background_thread_writes_within_its_interval(app):
    queue = app.extensions[counter_writer.EXTENSION] = writer_of(app, 0.05)
    page = page_origin()
    try:
        count(page, FormEvent.START)
        count(page, FormEvent.START)

        assert eventually(lambda: stored(page, "start") == 2)
    finally:
        queue.stop()
        app.extensions[counter_writer.EXTENSION] = writer_of(app, 0)


def test_a_batch_is_one_statement_on_a_connection_kept_between_batches(batching):
    """No pool checkout, BEGIN, SET LOCAL or COMMIT a batch on PostgreSQL, and one statement
    for all its keys, which is its own transaction: a batch that fails has added nothing. A
    connection lost between two batches (a restart of PostgreSQL) is replaced."""
    page = page_origin()
    statements: list[str] = []

    def flush() -> int:
        with captured_statements() as sent:
            written = batching.flush()
        statements.extend(" ".join(sql.split()[:3]) for sql, _ in sent)
        return written

    count(page, FormEvent.VIEW)
    assert flush() == 1
    statements.clear()
    count(page, FormEvent.VIEW, referrer_host="t.co")
    count(page, FormEvent.START)
    count(page, FormEvent.VIEW)

    assert flush() == 3
    if db.engine.dialect.name == "postgresql":
        assert statements == ["INSERT INTO form_counts"]
        own = batching._connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        db.session.execute(db.text("SELECT pg_terminate_backend(:pid)"), {"pid": own})
        db.session.commit()
    else:  # SQLite's writers queue for the write lock, then one executemany
        assert statements == ["BEGIN IMMEDIATE", "INSERT INTO form_counts"]
    count(page, FormEvent.START)
    assert flush() == 1
    assert counts(page) == {
        ("view", "", "", ""): 2,
        ("view", "", "t.co", ""): 1,
        ("start", "", "", ""): 2,
    }
