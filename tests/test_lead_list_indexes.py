"""The leads table's indexes: built as the models declare them, and usable by the queries that
read leads (the leads list, the registration's match)."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.schema import CreateIndex, Index

from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.leads import search as lead_search
from leadsite.leads.search import PAGE_SIZE, LeadFilters, search_leads
from leadsite.leads.sort import sort_named, sorted_leads
from leadsite.models import Lead
from leadsite.registration.match import MATCH_QUERY
from tests import factories
from tests.statements import captured_statements

LEAD_LIST_INDEXES = [
    "ix_leads_workspace_created",
    "ix_leads_workspace_status_created",
    "ix_leads_origin_created",
    "ix_leads_workspace_first_name",
    "ix_leads_workspace_last_name",
    "ix_leads_workspace_email_pattern",
    "ix_leads_workspace_phone_pattern",
    "ix_leads_tags",
    "ix_leads_workspace_name_sort",
    "ix_leads_workspace_email_sort",
]
LEADS = 4000
FIRST_NAMES = ["Ada", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hiro"]
LAST_NAMES = ["Lovelace", "Okafor", "Martin", "Patel", "Schmidt", "Haddad", "Hopper", "Tanaka"]


def _dialect() -> str:
    return db.engine.dialect.name


def _declared_here(index: Index) -> bool:
    ddl_if = index._ddl_if
    if ddl_if is None or ddl_if.dialect is None:
        return True
    dialects = [ddl_if.dialect] if isinstance(ddl_if.dialect, str) else ddl_if.dialect
    return _dialect() in dialects


def _normalized(sql: str) -> str:
    """CREATE INDEX as the models compile it and as the database reports it, made comparable:
    PostgreSQL adds the schema, `USING btree`, casts and parentheses."""
    sql = sql.lower().replace('"', "").replace("public.", "").replace(" using btree", "")
    sql = re.sub(r"::[a-z ]+(\(\d+\))?", "", sql)
    sql = re.sub(r"\(\((\w+)\)\)", r"(\1)", sql)
    return " ".join(sql.split())


def _definition_in_database(name: str) -> str | None:
    if _dialect() == "sqlite":
        query = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    else:
        query = "SELECT pg_get_indexdef(to_regclass(:name))"
    return db.session.scalar(text(query), {"name": name})


def test_each_index_is_built_as_the_model_declares_it():
    """Down to PostgreSQL's operator classes and GIN, which Alembic's comparison ignores."""
    declared = {index.name: index for index in Lead.__table__.indexes}

    for name in LEAD_LIST_INDEXES:
        index = declared[name]
        found = _definition_in_database(name)
        if _declared_here(index):
            expected = str(CreateIndex(index).compile(dialect=db.engine.dialect))
            assert found is not None, f"{name} is missing"
            assert _normalized(found) == _normalized(expected)
        else:
            assert found is None, f"{name} is declared for another database only"


def test_the_replaced_origin_index_is_gone():
    assert _definition_in_database("ix_leads_origin_id") is None


def _captured_search() -> AbstractContextManager[list[tuple[str, Any]]]:
    """The statements reading leads (lead_search's, the match's), with their parameters."""
    return captured_statements(lambda statement: "FROM leads" in statement)


def _plan(statement: str, parameters: object, in_order: bool) -> str:
    """The plan as text. On PostgreSQL without sequential scans; and for a search, without
    plain index scans either: a small table is cheaper to read in order through
    ix_leads_workspace_created and filter, so only bitmap scans show which indexes the search's
    conditions can use. A filter that an index reads in order (`in_order`) keeps index scans."""
    connection = db.session.connection()
    if _dialect() == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(row[3] for row in rows)
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    if not in_order:
        connection.exec_driver_sql("SET LOCAL enable_indexscan = off")
        connection.exec_driver_sql("SET LOCAL enable_indexonlyscan = off")
    rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters)
    return "\n".join(row[0] for row in rows)


@pytest.fixture
def many_leads():
    """Leads of two workspaces, with statistics, so the planners see tables worth an index."""
    workspaces = [factories.workspace(), factories.workspace()]
    origin = factories.origin(factories.funnel(workspaces[0]))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = ["new", "contacted", "qualified", "customer", "lost"]
    db.session.execute(
        insert(Lead),
        [
            {
                "id": new_id("lead"),
                "workspace_id": workspaces[index % 2].id,
                "origin_id": origin.id if index % 20 == 0 else None,
                "first_name": f"{FIRST_NAMES[index % 8]}{index}",
                "last_name": f"{LAST_NAMES[index // 8 % 8]}{index}",
                "email": f"person{index}@example.com",
                "phone": f"+316{index:08d}",
                "status": statuses[index % 5],
                "tags": ["vip"] if index % 100 == 0 else ["newsletter"],
                "created_at": start + timedelta(minutes=index),
                "updated_at": start,
            }
            for index in range(LEADS)
        ],
    )
    db.session.commit()
    db.session.execute(text("ANALYZE leads"))
    db.session.commit()
    db.engine.dispose()  # a SQLite connection reads the statistics when it opens
    yield workspaces[0], origin
    if _dialect() == "sqlite":  # statistics outlive the rows: leave none for other tests
        db.session.execute(text("DELETE FROM sqlite_stat1"))
        db.session.commit()
        db.engine.dispose()


@pytest.mark.parametrize(
    ("filters", "indexes"),
    [
        (
            LeadFilters(q="ada12"),
            {
                "sqlite": ["ix_leads_workspace_first_name", "ix_leads_workspace_last_name"],
                "postgresql": [
                    "ix_leads_workspace_first_name",
                    "ix_leads_workspace_last_name",
                    "ix_leads_workspace_email_pattern",
                ],
            },
        ),
        (
            LeadFilters(q="+31 6 0000 12"),
            {"sqlite": ["phone>? AND phone<?"], "postgresql": ["ix_leads_workspace_phone_pattern"]},
        ),
        (
            LeadFilters(q="person12"),
            {"sqlite": ["email>? AND email<?"], "postgresql": ["ix_leads_workspace_email_pattern"]},
        ),
        (
            LeadFilters(status="qualified"),
            {
                "sqlite": ["ix_leads_workspace_status_created"],
                "postgresql": ["ix_leads_workspace_status_created"],
            },
        ),
        (LeadFilters(tag="vip"), {"sqlite": [], "postgresql": ["ix_leads_tags"]}),
    ],
    ids=["name", "phone", "email", "status", "tag"],
)
def test_the_leads_list_queries_can_use_their_indexes(many_leads, filters, indexes):
    """On SQLite a search first counts its matches through the prefix indexes, then reads the
    page: the indexes show in the first statement's plan."""
    workspace, _ = many_leads
    with _captured_search() as statements:
        search_leads(workspace.id, filters, country="NL")
    plan = "\n".join(_plan(*each, in_order=bool(filters.status)) for each in statements)

    for index in indexes[_dialect()]:
        assert index in plan, plan


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("name", "ix_leads_workspace_name_sort"),
        ("-name", "ix_leads_workspace_name_sort"),
        ("email", "ix_leads_workspace_email_sort"),
        ("-status", "ix_leads_workspace_status_created"),
        ("created", "ix_leads_workspace_created"),
    ],
)
def test_each_sort_reads_its_index_in_order(many_leads, sort, index):
    """Without the index, every page would sort all the workspace's leads."""
    workspace, _ = many_leads
    first = sorted_leads(workspace.id, LeadFilters(), sort_named(sort), limit=PAGE_SIZE)
    with _captured_search() as statements:
        sorted_leads(
            workspace.id, LeadFilters(), sort_named(sort), after=first.next_cursor, limit=PAGE_SIZE
        )
    plan = _plan(*statements[0], in_order=True)

    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan  # read in order, not sorted


def test_the_origin_filter_reads_its_index_in_order(many_leads):
    workspace, origin = many_leads
    with _captured_search() as statements:
        search_leads(workspace.id, LeadFilters(origin=origin.id))
    plan = _plan(*statements[-1], in_order=True)

    assert "ix_leads_origin_created" in plan, plan


@pytest.mark.parametrize(
    "given",
    [
        {"email": "person12@example.com"},
        {"phone": "+31600000012"},
        {"email": "person12@example.com", "phone": "+31600000013", "unique_id": "A-1"},
    ],
    ids=["email", "phone", "all three"],
)
def test_the_registration_match_searches_each_identifier_index(many_leads, given):
    """Identifiers not given are bound as NULL (PostgreSQL leaves them out of the plan; SQLite
    plans before binding); each given one is looked up in an index, never by walking the
    workspace's leads."""
    workspace, _ = many_leads
    parameters = {"workspace_id": workspace.id, "email": None, "phone": None, "unique_id": None}
    with _captured_search() as statements:
        matches = db.session.scalars(MATCH_QUERY, {**parameters, **given}).all()
    plan = _plan(*statements[-1], in_order=False)

    assert [lead.email for lead in matches] == ["person12@example.com"]  # 13: other workspace
    for name in given:  # each looked up in an index with the workspace
        lookup = f"(workspace_id=? AND {name}=?)" if _dialect() == "sqlite" else f"AND (({name})::"
        assert lookup in plan, plan
    assert "(workspace_id=?)" not in plan and "Filter" not in plan, plan


@pytest.mark.parametrize("statistics", [True, False], ids=["sqlite_stat1", "no statistics"])
@pytest.mark.parametrize(
    ("few_matches", "read_through"),
    [(5000, "INTEGER PRIMARY KEY"), (10, "ix_leads_workspace_created")],
    ids=["few matches", "many matches"],
)
def test_sqlite_counts_a_searchs_matches_then_reads_them_by_rowid_or_in_created_order(
    many_leads, monkeypatch, statistics, few_matches, read_through
):
    """Without histograms SQLite cannot tell a rare prefix from a common one, so the search
    first counts its matches through the prefix indexes (one range per UNION ALL branch, with
    or without statistics); then reads few by rowid, or walks the leads newest first."""
    if _dialect() != "sqlite":
        pytest.skip("PostgreSQL picks its plan per prefix from its histograms")
    workspace, _ = many_leads
    if not statistics:
        db.session.execute(text("DELETE FROM sqlite_stat1"))
        db.session.commit()
        db.engine.dispose()
    monkeypatch.setattr(lead_search, "FEW_MATCHES", few_matches)

    with _captured_search() as statements:
        page = search_leads(workspace.id, LeadFilters(q="ada1"))
    probe, read = (_plan(*each, in_order=False) for each in statements)

    assert "ix_leads_workspace_first_name" in probe and "ix_leads_workspace_last_name" in probe
    assert read_through in read, read
    assert "first_name" not in read and "last_name" not in read and "MULTI-INDEX" not in read
    if few_matches < PAGE_SIZE:
        assert "TEMP B-TREE" not in read  # read in order, no sort
    assert len(page.rows) == PAGE_SIZE and all(
        lead.first_name.startswith("Ada1") for lead, _ in page.rows
    )
