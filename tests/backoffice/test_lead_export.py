"""CSV export of the filtered list: streamed in keyset batches, safe for spreadsheets."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from leadsite.backoffice.downloads import DownloadCut
from leadsite.leads import export as lead_export
from leadsite.leads import search as lead_search
from leadsite.leads.search import search_leads
from leadsite.models import Role, Workspace, utcnow
from tests import factories
from tests.statements import captured_statements


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _rows(response) -> list[dict[str, str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # Excel reads UTF-8 only with it
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_export_has_every_column_of_the_lead(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    origin = factories.origin(factories.funnel(ws))
    lead = factories.lead(
        ws,
        email="chloe@example.com",
        phone="+33612345678",
        first_name="Chloé",
        last_name="Dupont",
        status="qualified",
        tags=["vip", "salon"],
        origin_id=origin.id,
        opt_in=True,
        custom_fields={"plan": "pro", "seats": 3},
        utm_source="mail",
        created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )

    response = client.get("/p/leads/export")

    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="leads-')
    assert response.headers["Cache-Control"] == "no-store"
    [row] = _rows(response)
    assert list(row) == list(lead_export.COLUMNS)
    assert row["id"] == lead.id and row["first_name"] == "Chloé"  # accents survive
    assert row["phone"] == "+33612345678"  # a plain number is not treated as a formula
    assert (row["tags"], row["origin"], row["opt_in"]) == ("vip, salon", "api origin", "true")
    assert row["utm_source"] == "mail" and row["created_at"] == "2026-03-01T09:30:00Z"
    assert json.loads(row["custom_fields"]) == {"plan": "pro", "seats": 3}


def test_the_export_has_the_lists_filters(client, auth):
    ws = _sign_in(auth)
    factories.lead(ws, email="ada@example.com", status="new", first_name="Ada")
    factories.lead(ws, email="alan@example.com", status="lost", first_name="Alan")
    factories.lead(ws, email="grace@example.com", status="new", first_name="Grace")
    factories.lead(factories.workspace(), email="another@example.com", status="new")
    factories.lead(ws, email=None, status="new", erased_at=utcnow())

    response = client.get("/p/leads/export", query_string={"q": "a", "status": "new"})

    assert [row["email"] for row in _rows(response)] == ["ada@example.com"]


def test_the_list_links_the_export_with_its_filters(client, auth):
    ws = _sign_in(auth)
    factories.lead(ws, status="new", tags=["vip"])

    body = client.get("/p/leads", query_string={"status": "new", "tag": "vip"}).get_data(
        as_text=True
    )

    assert 'href="/p/leads/export?status=new&amp;tag=vip" download>' in body
    assert "Export these results (CSV)" in body


def test_rows_are_read_in_keyset_batches_newest_first(client, auth, monkeypatch):
    ws = _sign_in(auth)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(5):
        factories.lead(ws, email=f"n{n}@example.com", created_at=start + timedelta(hours=n))
    monkeypatch.setattr(lead_export, "BATCH_SIZE", 2)
    with captured_statements(lambda statement: "FROM leads" in statement) as captured:
        response = client.get("/p/leads/export")
        chunks = response.response  # nothing is read before the body is iterated
        assert captured == []
        first = next(iter(chunks))
        assert first.startswith("\ufeffid,email".encode()) and captured == []  # header at once
        body = first + b"".join(chunks)
    queries = [statement for statement, _ in captured]

    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert [row["email"] for row in rows] == [f"n{n}@example.com" for n in range(4, -1, -1)]
    assert len(queries) == 3  # 2 + 2 + 1 rows
    assert all("(leads.created_at, leads.id) <" in query for query in queries[1:])


def test_each_kind_of_cell_is_written_as_the_api_writes_it(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(
        ws,
        email="zoe@example.com",
        last_name=None,
        tags=[],
        custom_fields={"ville": "Montréal", "note": "a\nb"},
        counter=3,
        sms_opt_in=False,
        opt_in_at=datetime(2026, 3, 1, 9, 30, 0, 120000, tzinfo=UTC),
        created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
    )
    factories.lead(ws, email="yann@example.com", tags=["=cmd", "vip"], custom_fields={})

    rows = _rows(client.get("/p/leads/export"))

    assert [row["email"] for row in rows] == ["yann@example.com", "zoe@example.com"]
    yann, zoe = rows
    assert (zoe["id"], zoe["counter"], zoe["sms_opt_in"]) == (lead.id, "3", "false")
    assert (zoe["last_name"], zoe["tags"], zoe["origin"], zoe["confirmed_at"]) == ("", "", "", "")
    assert zoe["opt_in_at"] == "2026-03-01T09:30:00.120000Z"  # as representations.iso
    assert zoe["created_at"] == "2026-03-01T09:30:00Z"
    # The stored JSON text (keys in PostgreSQL's jsonb order there), accents as such.
    assert json.loads(zoe["custom_fields"]) == {"ville": "Montréal", "note": "a\nb"}
    assert "Montréal" in zoe["custom_fields"]
    assert yann["tags"] == "'=cmd, vip" and yann["custom_fields"] == ""


@pytest.mark.parametrize("few_matches", [5000, 1], ids=["few matches", "many matches"])
def test_a_search_exports_the_rows_the_list_shows(client, auth, monkeypatch, few_matches):
    """On SQLite a search reads its matches by rowid when they are few, else walks the leads
    newest first; the export is the same either way."""
    monkeypatch.setattr(lead_search, "FEW_MATCHES", few_matches)
    monkeypatch.setattr(lead_export, "BATCH_SIZE", 2)
    ws = _sign_in(auth)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n, name in enumerate(["Jan", "Bob", "Jane", "Joy", "Jo", "Ann"]):
        factories.lead(
            ws,
            email=f"{name.lower()}{n}@example.com",
            first_name=name,
            status="lost" if n == 4 else "new",
            created_at=start + timedelta(hours=n // 2),  # ties broken by id
        )
    listed = search_leads(ws.id, lead_search.LeadFilters(q="j", status="new"), limit=10).rows

    rows = _rows(client.get("/p/leads/export", query_string={"q": "j", "status": "new"}))

    assert [row["id"] for row in rows] == [lead.id for lead, _ in listed]
    assert sorted(row["first_name"] for row in rows) == ["Jan", "Jane", "Joy"]


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted(client, auth):
    ws = _sign_in(auth)
    factories.lead(ws, first_name='=HYPERLINK("http://evil")', last_name="-2+3", status="@x")

    [row] = _rows(client.get("/p/leads/export"))

    assert row["first_name"] == '\'=HYPERLINK("http://evil")'
    assert row["last_name"] == "'-2+3" and row["status"] == "'@x"


def test_the_bom_can_be_left_out(client, auth):
    _sign_in(auth)

    body = client.get("/p/leads/export", query_string={"bom": "0"}).get_data(as_text=True)

    assert body.startswith("id,email,")


def test_signed_out_visitors_get_nothing(client):
    assert client.get("/p/leads/export").status_code == 302


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("x;=1+1", "x;'=1+1"),  # Excel where lists split on `;`
        ("x,=1+1", "x,'=1+1"),
        ("x\t@SUM(A1)", "x\t'@SUM(A1)"),
        ("x\n-2+3", "x\n'-2+3"),
        ("x| +cmd", "x| '+cmd"),
        ('x;"=1+1"', 'x;"\'=1+1"'),  # our quotes do not hold where `;` splits
        ("Paris;-5", "Paris;-5"),  # a plain number stays one
        ("Rue 12, Paris", "Rue 12, Paris"),
    ],
)
def test_a_formula_after_a_separator_inside_a_cell_is_quoted_too(client, auth, typed, written):
    ws = _sign_in(auth)
    factories.lead(ws, first_name=typed, tags=["vip", typed])

    [row] = _rows(client.get("/p/leads/export"))

    assert row["first_name"] == written
    assert row["tags"] == f"vip, {written}"


@pytest.mark.parametrize(
    ("failure", "said", "level"),
    [
        (
            OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked")),
            "the service is briefly unavailable; download it again in a few seconds",
            "WARNING",
        ),
        (ZeroDivisionError("a bug"), "an error on our side (logged); download it again", "ERROR"),
    ],
    ids=["outage", "error"],
)
def test_an_export_that_fails_midway_says_so_and_ends_as_a_cut_transfer(
    client, auth, monkeypatch, caplog, failure, said, level
):
    """After the header (status 200, sent), the rows' read fails: a last line says why, then
    `DownloadCut` makes the server close the connection mid-body, so that the client sees a
    failed transfer, not a whole file (through a real server: tests/concurrency)."""
    factories.lead(_sign_in(auth), email="a@example.com")

    def failing(*args, **kwargs):
        raise failure
        yield  # a generator, as `_batches` is

    monkeypatch.setattr(lead_export, "_batches", failing)
    response = client.get("/p/leads/export")
    received = []
    with pytest.raises(DownloadCut):
        for chunk in response.response:
            received.append(chunk)

    assert response.status_code == 200
    lines = b"".join(received).decode("utf-8-sig").splitlines()
    assert lines == [",".join(lead_export.COLUMNS), f'"The export stopped here: {said}."']
    cuts = [r.levelname for r in caplog.records if "download cut short" in r.getMessage()]
    assert cuts == [level]
