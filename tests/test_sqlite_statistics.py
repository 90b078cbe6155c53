"""SQLite gets planner statistics: pooled connections run PRAGMA optimize now and then."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from leadsite import database
from leadsite.extensions import db
from leadsite.leads.search import LeadFilters, search_leads
from tests import factories

LEADS_STATISTICS = "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'leads'"


@pytest.fixture
def sqlite_without_statistics():
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL keeps its own statistics (autovacuum)")
    db.session.execute(text("ANALYZE sqlite_schema"))  # makes sqlite_stat1 if it is missing
    db.session.execute(text("DELETE FROM sqlite_stat1"))
    db.session.commit()
    db.engine.dispose()  # connections read the statistics when they open
    yield
    db.session.remove()
    db.session.execute(text("DELETE FROM sqlite_stat1"))  # leave none for other tests
    db.session.commit()
    db.engine.dispose()


def _workspace_with_a_lead() -> str:
    ws = factories.workspace()
    factories.lead(ws, first_name="Ada")
    db.session.commit()  # the connection's first check-in
    return ws.id


def _search_and_check_in(workspace_id: str) -> None:
    search_leads(workspace_id, LeadFilters(q="ada"))  # uses the leads' indexes
    db.session.remove()  # the connection goes back to the pool


def test_a_connection_analyzes_the_tables_it_used_when_checked_in(
    sqlite_without_statistics, monkeypatch
):
    monkeypatch.setattr(database, "SQLITE_OPTIMIZE_EVERY_S", 0)
    workspace_id = _workspace_with_a_lead()

    _search_and_check_in(workspace_id)

    assert db.session.scalar(text(LEADS_STATISTICS)) > 0


def test_a_connection_runs_the_pragma_an_hour_after_its_first_check_in(
    sqlite_without_statistics,
):
    workspace_id = _workspace_with_a_lead()

    _search_and_check_in(workspace_id)

    assert db.session.scalar(text(LEADS_STATISTICS)) == 0


def test_the_pragma_waits_for_the_next_check_in_when_a_writer_holds_the_lock(
    sqlite_without_statistics, monkeypatch
):
    monkeypatch.setattr(database, "SQLITE_OPTIMIZE_EVERY_S", 0)
    workspace_id = _workspace_with_a_lead()
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        _search_and_check_in(workspace_id)  # no wait for the writer, no error
        assert db.session.scalar(text(LEADS_STATISTICS)) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    db.session.remove()

    _search_and_check_in(workspace_id)

    assert db.session.scalar(text(LEADS_STATISTICS)) > 0
