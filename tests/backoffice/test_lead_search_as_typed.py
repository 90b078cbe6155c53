"""The leads search finds a lead however staff type them: a phone number written the way the
workspace's country writes it, a name without its accents or capitals."""

from __future__ import annotations

import re

import pytest

from leadsite.erasure.records import erase_lead
from leadsite.extensions import db
from leadsite.leads import search as lead_search
from leadsite.models import Lead, Role, Workspace
from tests import factories
from tests.test_migrations import OLD_WORKSPACE, upgraded_from

HTMX = {"HX-Request": "true"}
ROW_EMAIL = re.compile(r'<td data-col="email">([^<@]+@[^<]+)</td>')
BOTH_WAYS = pytest.mark.parametrize("few_matches", [5000, 0], ids=["by rowid", "in created order"])


def _sign_in(auth, country: str) -> Workspace:
    ws = factories.workspace()
    ws.default_country = country
    db.session.commit()
    auth.login(factories.user(ws, role=Role.ADMINISTRATOR).email)
    return ws


def _found(client, query: str) -> list[str]:
    body = client.get("/p/leads", query_string={"q": query}, headers=HTMX).get_data(as_text=True)
    return ROW_EMAIL.findall(body)


@pytest.mark.parametrize(
    "query",
    [
        "415 555",
        "(415) 555-0101",
        "415-555-0101",
        "415.555",
        "1 415 555",  # with the trunk prefix
        "1 (415) 555-0101",
        "+1 415 555",
        "001 415",
    ],
)
@BOTH_WAYS
def test_a_us_number_is_found_however_it_is_typed_in_a_us_workspace(
    client, auth, monkeypatch, query, few_matches
):
    monkeypatch.setattr(lead_search, "FEW_MATCHES", few_matches)  # both ways SQLite reads them
    ws = _sign_in(auth, "US")
    factories.lead(ws, email="sf@example.com", phone="+14155550101")
    factories.lead(ws, email="dc@example.com", phone="+12025550100")
    factories.lead(ws, email="ch@example.com", phone="+41555000000")  # +41 55: not 415 55

    assert _found(client, query) == ["sf@example.com"]


@pytest.mark.parametrize(
    ("country", "phone", "query"),
    [
        ("NL", "+31612345678", "06 1234"),  # the trunk 0 gives way to +31
        ("GB", "+447700900123", "07700 900"),
        ("IT", "+390612345678", "06 1234"),  # Italy keeps its 0 after +39
        ("HU", "+36301234567", "06 30 123"),  # Hungary's trunk prefix is 06
        ("DE", "+4915112345678", "15112345"),  # without the trunk 0
    ],
)
def test_a_national_number_is_read_in_the_workspaces_country(client, auth, country, phone, query):
    ws = _sign_in(auth, country)
    factories.lead(ws, email="found@example.com", phone=phone)
    factories.lead(ws, email="other@example.com", phone="+12025550100")

    assert _found(client, query) == ["found@example.com"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("garcia", ["maria@example.com"]),
        ("GARCÍA", ["maria@example.com"]),
        ("maria garc", ["maria@example.com"]),
        ("emile", ["emile@example.com"]),
        ("ÉMILE", ["emile@example.com"]),
        ("lukasz", ["lukasz@example.com"]),
        ("chloe", ["chloe@example.com"]),
        ("chloé", ["chloe@example.com"]),  # an accent typed finds the name stored without one
        ("strasse", ["jo@example.com"]),
        ("zol", ["emile@example.com"]),
    ],
)
@BOTH_WAYS
def test_names_are_found_without_their_accents_or_capitals(
    client, auth, monkeypatch, query, expected, few_matches
):
    monkeypatch.setattr(lead_search, "FEW_MATCHES", few_matches)
    ws = _sign_in(auth, "FR")
    factories.lead(ws, first_name="María", last_name="García", email="maria@example.com")
    factories.lead(ws, first_name="Émile", last_name="Zola", email="emile@example.com")
    factories.lead(ws, first_name="Łukasz", last_name="Nowak", email="lukasz@example.com")
    factories.lead(ws, first_name="Chloe", last_name="Martin", email="chloe@example.com")
    factories.lead(ws, first_name="Jo", last_name="Straße", email="jo@example.com")

    assert _found(client, query) == expected


def test_a_renamed_lead_is_found_by_its_new_name_only(client, auth):
    ws = _sign_in(auth, "FR")
    lead = factories.lead(ws, first_name="Zoé", last_name="Dupont", email="zoe@example.com")
    lead.first_name, lead.last_name = "Inès", "Lefèvre"
    db.session.commit()

    assert _found(client, "zoe") == ["zoe@example.com"]  # by email, which did not change
    assert _found(client, "dupont") == []
    assert _found(client, "lefevre") == ["zoe@example.com"]
    assert (lead.first_name_key, lead.last_name_key) == ("ines", "lefevre")


def test_erasing_a_lead_erases_its_search_keys(client, auth):
    ws = _sign_in(auth, "FR")
    lead = factories.lead(ws, first_name="Zoé", last_name="Dupont", email="zoe@example.com")

    erase_lead(lead)
    db.session.commit()

    assert (lead.first_name_key, lead.last_name_key) == (None, None)
    assert _found(client, "zoe") == _found(client, "dupont") == []


def test_the_api_search_finds_names_without_their_accents(client):
    ws = factories.workspace()
    factories.lead(ws, first_name="María", last_name="García", email="maria@example.com")
    key = factories.api_key(ws)

    response = client.get(
        "/api/v1/leads", query_string={"q": "garcia"}, headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 200, response.json
    assert [lead["email"] for lead in response.json["data"]] == ["maria@example.com"]


def test_upgrading_gives_existing_leads_their_search_keys(tmp_path):
    lead = (
        "INSERT INTO leads (id, workspace_id, email, first_name, last_name, tags, custom_fields, "
        "counter, opt_in, sms_opt_in, status, held, created_at, updated_at) VALUES ('lead_1', "
        "'ws_1', 'a@example.com', 'Émile', 'García', '[]', '{}', 1, 0, 0, 'new', 0, "
        "'2026-01-01', '2026-01-01')"
    )

    rows = upgraded_from(
        tmp_path,
        "0007_analytics_ux",
        [OLD_WORKSPACE, lead],
        "SELECT first_name_key, last_name_key FROM leads",
    )

    assert [tuple(row) for row in rows] == [("emile", "garcia")]


def test_bulk_inserted_leads_get_their_search_keys(app):
    ws = factories.workspace()
    db.session.execute(
        db.insert(Lead),
        [
            {"id": "lead_a", "workspace_id": ws.id, "first_name": "Ana", "last_name": "Muñoz"},
            {"id": "lead_b", "workspace_id": ws.id, "first_name": "Noé", "last_name": None},
        ],
    )
    db.session.commit()

    keys = db.session.execute(
        db.select(Lead.id, Lead.first_name_key, Lead.last_name_key).order_by(Lead.id)
    ).all()
    assert [tuple(row) for row in keys] == [("lead_a", "ana", "munoz"), ("lead_b", "noe", None)]
