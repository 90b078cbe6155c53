"""Queries that read a whole big table when an index could serve them (bench/scans.py found them
at 100,000 leads on PostgreSQL; bench/README.md, "Whole-table reads at 100,000 leads"): each
plan names the index it reads, on SQLite and on PostgreSQL (there without sequential scans, as
a small test table is cheaper to read whole), and reads it by the condition that bounds it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadsite.backoffice.dashboard import top_origins
from leadsite.backoffice.dashboard_stats import week_summary
from leadsite.backoffice.settings_webhooks import _last_attempts
from leadsite.extensions import db
from leadsite.journeys.confirmation import _overdue
from leadsite.leads.search import LeadFilters, search_leads
from leadsite.models import JourneyStatus, utcnow
from tests import factories
from tests.statements import captured_statements


def _plan(statement: str, parameters: object) -> str:
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(row[3] for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in rows)


def _plans(keep: str, call, also: str = "") -> list[str]:
    """The plans of the statements `call` sends that contain `keep` (and `also`), rolled back
    after."""
    with captured_statements(lambda sql: keep in sql and also in sql) as statements:
        call()
    assert statements, f"no statement with {keep!r}"
    plans = [_plan(statement, parameters) for statement, parameters in statements]
    db.session.rollback()
    return plans


def _sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _analyzed(*tables: str) -> None:
    """On PostgreSQL, statistics of these tables as they are now. Those autovacuum kept from
    earlier tests' rows made it read every entry of an index by its second column after the
    whole suite in a CI dry run (2026-12-07): uq_journeys_lead_id_funnel_id for funnel_id,
    uq_leads_id_workspace_id for workspace_id, plans for tables that are gone."""
    if not _sqlite():
        db.session.execute(db.text(f"ANALYZE {', '.join(tables)}"))


def test_the_leads_lists_count_of_held_leads_reads_their_index(client, auth) -> None:
    """Every view of the leads list counted the held leads (few, usually none) by reading every
    lead of the workspace: 42-63 ms at 100,000 leads."""
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    factories.lead(ws, held=True)
    factories.lead(ws)
    db.session.commit()

    def leads_list() -> None:
        assert client.get("/p/leads").status_code == 200

    _analyzed("leads")
    (plan,) = _plans("held IS", leads_list, also="count(*)")

    assert "ix_leads_workspace_held" in plan


def test_the_held_list_reads_their_index() -> None:
    ws = factories.workspace()
    factories.lead(ws, held=True)
    db.session.commit()

    plans = _plans("FROM leads", lambda: search_leads(ws.id, LeadFilters(held=True)))

    assert all("ix_leads_workspace_held" in plan for plan in plans), plans


def test_the_search_for_unconfirmed_journeys_reads_the_awaiting_ones_only() -> None:
    """The housekeeping (every quarter of an hour) read every journey to find those awaiting
    confirmation: 21-35 ms at 100,000 leads."""
    ws = factories.workspace()
    funnel = factories.funnel(ws, double_opt_in=True, confirm_within_hours=24)
    journey = factories.journey(factories.lead(ws), funnel)
    journey.status = JourneyStatus.AWAITING
    journey.created_at = utcnow() - timedelta(days=2)
    db.session.commit()

    plans = _plans("FROM", lambda: _overdue(utcnow(), 100))

    assert len(plans) == 2  # the windows, then the journeys past one
    assert all("ix_journeys_awaiting_created" in plan for plan in plans), plans


@pytest.mark.parametrize("report", ["week_summary", "top_origins"])
def test_the_dashboards_recent_journeys_are_found_by_funnel_and_date(report: str) -> None:
    """By workspace and date no index held them: the whole journeys table was read, 28-67 ms
    at 100,000 leads. By the workspace's funnels, `ix_journeys_funnel_created` bounds both."""
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.journey(factories.lead(ws), funnel, factories.origin(funnel))
    db.session.commit()
    now = utcnow()
    call = {
        "week_summary": lambda: week_summary(ws.id, now),
        "top_origins": lambda: top_origins(ws.id, now - timedelta(days=30)),
    }[report]
    _analyzed("journeys", "funnels", "origins")

    (plan,) = _plans("FROM journeys", call)

    if _sqlite():
        assert "ix_journeys_funnel_created (funnel_id=? AND created_at>?)" in plan
    else:
        # Which conditions PostgreSQL puts in the Index Cond of a table this small depends on
        # its statistics at the time: in a CI run after the whole suite it bounded the index
        # by created_at alone, and alone by both. SQLite's plan (above) holds the query to both;
        # bench/scans.py measures PostgreSQL's at 100,000 leads.
        assert "ix_journeys_funnel_created" in plan


def test_the_webhooks_page_reads_each_endpoints_last_attempt_only() -> None:
    """The latest attempt of each endpoint was a max() grouped by endpoint: every attempt of
    the endpoint read (the whole table, 24-45 ms at 100,000 attempts)."""
    ws = factories.workspace()
    endpoint = factories.webhook_endpoint(ws)
    other = factories.webhook_endpoint(ws, "https://hooks.example.com/other")
    factories.endpoint_attempt(endpoint, status_code=500)
    last = factories.endpoint_attempt(endpoint, status_code=200, success=True)
    last.attempted_at = last.attempted_at + timedelta(seconds=1)
    only = factories.endpoint_attempt(other, status_code=404)
    db.session.commit()

    found = _last_attempts([endpoint.id, other.id])
    (plan,) = _plans("FROM delivery_attempts", lambda: _last_attempts([endpoint.id]))

    assert {key: attempt.id for key, attempt in found.items()} == {
        endpoint.id: last.id,
        other.id: only.id,
    }
    if _sqlite():  # the subquery walks the index from its end, no sort
        assert "CORRELATED SCALAR SUBQUERY" in plan
        assert "ix_delivery_attempts_endpoint_attempted (endpoint_id=?)" in plan
        assert "TEMP B-TREE" not in plan
    else:
        assert "Index Scan Backward using ix_delivery_attempts_endpoint_attempted" in plan
