"""The leads list: search, filters, keyset "Load more", one URL for page and fragment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from leadsite.leads import search as lead_search
from leadsite.models import Role, Workspace
from tests import factories

HTMX = {"HX-Request": "true"}
ROW_EMAIL = re.compile(r'<td data-col="email">([^<@]+@[^<]+)</td>')
LOAD_MORE = re.compile(r'<a class="button" href="([^"]+)" hx-get="([^"]+)"')


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _emails(body: str) -> list[str]:
    return ROW_EMAIL.findall(body)


def _next_url(body: str) -> str:
    match = LOAD_MORE.search(body)
    assert match, "no Load more link"
    assert match.group(1) == match.group(2)  # the same URL with and without JavaScript
    return match.group(1).replace("&amp;", "&")


def test_the_page_is_whole_without_htmx_and_only_the_table_with_it(client, auth):
    ws = _sign_in(auth)
    factories.lead(ws, first_name="Ada", last_name="Lovelace", email="ada@example.com")

    full = client.get("/p/leads")
    partial = client.get("/p/leads", headers=HTMX)

    assert full.status_code == partial.status_code == 200
    page, fragment = full.get_data(as_text=True), partial.get_data(as_text=True)
    assert "<html" in page and 'id="lead-search"' in page and "ada@example.com" in page
    assert "<html" not in fragment and 'id="lead-search"' not in fragment
    assert fragment.lstrip().startswith('<div id="lead-table"')
    assert "ada@example.com" in fragment
    assert 'id="flash"' in fragment and 'hx-swap-oob="true"' in fragment
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in partial.headers["Vary"]


def test_a_row_shows_the_lead_with_its_origin_and_a_local_time(client, auth):
    ws = _sign_in(auth)
    ws.timezone = "Europe/Paris"
    origin = factories.origin(factories.funnel(ws))
    factories.lead(
        ws,
        first_name="Grace",
        last_name="Hopper",
        email="grace@example.com",
        phone="+12025550100",
        status="qualified",
        tags=["vip", "trial"],
        origin_id=origin.id,
        created_at=datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
    )

    body = client.get("/p/leads").get_data(as_text=True)

    origin_cell = '<td data-col="origin">api origin</td>'
    # The workspace is in the US: its numbers show in national format.
    for text in ("Grace Hopper", "grace@example.com", "(202) 555-0100", origin_cell):
        assert text in body
    assert 'data-status="qualified"' in body
    assert '<span class="tag">vip</span><span class="tag">trial</span>' in body
    assert "2026-01-15 13:00" in body  # noon UTC is 13:00 in Paris in January


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ada", ["ada@example.com"]),
        ("ADA", ["ada@example.com"]),
        ("love", ["ada@example.com"]),
        ("ada love", ["ada@example.com"]),
        ("grace@", ["grace@navy.example"]),
        ("+1 202", ["grace@navy.example"]),
        ("06 12", ["ada@example.com"]),  # national number, read in the workspace's country
        ("0031612", ["ada@example.com"]),
        ("h", ["grace@navy.example"]),
        ("lace", []),  # a prefix search: the middle of a name does not match
        ("%", []),  # LIKE wildcards are searched for literally
    ],
)
@pytest.mark.parametrize("few_matches", [5000, 0], ids=["by rowid", "in created order"])
def test_search_matches_the_start_of_name_email_or_phone(
    client, auth, monkeypatch, query, expected, few_matches
):
    monkeypatch.setattr(lead_search, "FEW_MATCHES", few_matches)  # both ways SQLite reads them
    ws = _sign_in(auth)
    ws.default_country = "NL"
    factories.lead(
        ws, first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+31612345678"
    )
    factories.lead(
        ws, first_name="Grace", last_name="Hopper", email="grace@navy.example", phone="+12025550100"
    )

    body = client.get("/p/leads", query_string={"q": query}, headers=HTMX).get_data(as_text=True)

    assert _emails(body) == expected
    if not expected:
        assert "No leads match" in body


@pytest.mark.parametrize("name", ["status", "origin", "funnel", "tag"])
def test_each_filter_narrows_the_list(client, auth, name):
    ws = _sign_in(auth)
    spring, autumn = factories.funnel(ws, "Spring"), factories.funnel(ws, "Autumn")
    web, fair = factories.origin(spring), factories.origin(autumn)
    first = factories.lead(ws, email="first@example.com", status="new", tags=["vip"])
    second = factories.lead(
        ws, email="second@example.com", status="lost", tags=["trial", "webinar"]
    )
    first.origin_id, second.origin_id = web.id, fair.id
    factories.journey(first, spring, web)
    factories.journey(second, autumn, fair)
    value = {"status": "lost", "origin": fair.id, "funnel": autumn.id, "tag": "trial"}[name]

    body = client.get("/p/leads", query_string={name: value}, headers=HTMX).get_data(as_text=True)

    assert _emails(body) == ["second@example.com"]


def test_filters_combine_with_search(client, auth):
    ws = _sign_in(auth)
    factories.lead(ws, first_name="Ada", email="ada@example.com", status="new")
    factories.lead(ws, first_name="Adam", email="adam@example.com", status="lost")
    factories.lead(ws, first_name="Bob", email="bob@example.com", status="lost")

    body = client.get("/p/leads?q=ad&status=lost", headers=HTMX).get_data(as_text=True)

    assert _emails(body) == ["adam@example.com"]


def test_load_more_returns_the_next_rows_without_repeats_until_the_last(client, auth):
    ws = _sign_in(auth)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for index in range(120):
        # Three leads share each timestamp: the id breaks ties, also across page ends.
        factories.lead(
            ws,
            email=f"lead{index:03}@example.com",
            created_at=start + timedelta(minutes=index // 3),
        )

    first = client.get("/p/leads?status=new").get_data(as_text=True)
    second = client.get(_next_url(first), headers=HTMX).get_data(as_text=True)
    third = client.get(_next_url(second), headers=HTMX).get_data(as_text=True)

    pages = [_emails(first), _emails(second), _emails(third)]
    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [email for page in pages for email in page]
    assert len(set(seen)) == 120
    minutes = [int(email[4:7]) // 3 for email in seen]
    assert minutes == sorted(minutes, reverse=True)  # newest first across the pages
    assert parse_qs(urlsplit(_next_url(first)).query)["status"] == ["new"]  # filters kept
    assert "<html" not in second and "<thead" not in second  # only rows for htmx
    assert second.lstrip().startswith("<tr")
    assert 'class="load-more"' in second and "Load more" not in third


@pytest.mark.parametrize("few_matches", [5000, 1], ids=["few matches", "many matches"])
def test_a_search_pages_alike_whether_its_matches_are_few_or_many(
    client, auth, monkeypatch, few_matches
):
    """SQLite reads a search's matches by rowid when its indexes find few, else walks the leads
    newest first (lead_search.FEW_MATCHES); the rows, their order and Load more are the same."""
    monkeypatch.setattr(lead_search, "FEW_MATCHES", few_matches)
    ws = _sign_in(auth)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    leads = []
    for index in range(130):
        # Every other lead matches "lea" by its email, some also by their first name (found
        # twice by the indexes, shown once); three share each timestamp.
        lead = factories.lead(
            ws,
            email=f"lead{index:03}@example.com" if index % 2 else f"other{index:03}@example.com",
            first_name="Leandra" if index % 4 == 1 else "Zoe",
            status="lost" if index == 129 else "new",
            created_at=start + timedelta(minutes=index // 3),
        )
        if index % 2 and lead.status == "new":
            leads.append(lead)
    factories.lead(factories.workspace(), email="lead999@example.com", first_name="Leandra")

    first = client.get("/p/leads", query_string={"q": "lea", "status": "new"})
    second = client.get(_next_url(first.get_data(as_text=True)), headers=HTMX)

    pages = [_emails(first.get_data(as_text=True)), _emails(second.get_data(as_text=True))]
    assert [len(page) for page in pages] == [50, 14]
    newest_first = sorted(leads, key=lambda lead: (lead.created_at, lead.id), reverse=True)
    assert pages[0] + pages[1] == [lead.email for lead in newest_first]  # each lead once
    assert "Load more" not in second.get_data(as_text=True)


def test_rows_come_newest_first(client, auth):
    ws = _sign_in(auth)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for days, email in [
        (2, "middle@example.com"),
        (5, "newest@example.com"),
        (0, "old@example.com"),
    ]:
        factories.lead(ws, email=email, created_at=start + timedelta(days=days))

    body = client.get("/p/leads").get_data(as_text=True)

    assert _emails(body) == ["newest@example.com", "middle@example.com", "old@example.com"]


def test_load_more_works_without_javascript(client, auth):
    ws = _sign_in(auth)
    for index in range(55):
        factories.lead(ws, email=f"lead{index:02}@example.com")

    first = client.get("/p/leads").get_data(as_text=True)
    response = client.get(_next_url(first))

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in body and "Back to the first page" in body
    assert len(_emails(body)) == 5
    assert not set(_emails(body)) & set(_emails(first))


def test_load_more_marks_the_first_new_row_to_focus_only_when_htmx_swaps_it_in(client, auth):
    """A keyboard user's focus goes from "Load more", swapped out, to the first new row; a whole
    page of later rows (no JavaScript) leaves the focus where the browser puts it."""
    ws = _sign_in(auth)
    for index in range(55):
        factories.lead(
            ws,
            first_name=f"P{index:02}",
            created_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=index),
        )

    first = client.get("/p/leads").get_data(as_text=True)
    rows = client.get(_next_url(first), headers=HTMX).get_data(as_text=True)
    page = client.get(_next_url(first)).get_data(as_text=True)

    assert rows.count("data-focus-on-swap") == 1
    assert re.search(r'<a href="/p/leads/lead_\w+" data-focus-on-swap>P04</a>', rows)
    for body in (first, page):
        assert "data-focus-on-swap" not in body and "autofocus" not in body


@pytest.mark.parametrize("cursor", ["nonsense", "bGVhZF94", "MjAyNi0wMS0wMXxsZWFkX3g"])
def test_a_mangled_cursor_is_a_400_not_a_500(client, auth, cursor):
    _sign_in(auth)

    response = client.get("/p/leads", query_string={"after": cursor})

    assert response.status_code == 400
    assert "Load more" in response.get_data(as_text=True)


def test_empty_workspace_says_so(client, auth):
    _sign_in(auth)

    body = client.get("/p/leads").get_data(as_text=True)

    assert "No leads yet" in body and "<table" not in body


def test_leads_of_another_workspace_never_appear(client, auth):
    mine, theirs = factories.workspace("Mine"), factories.workspace("Theirs")
    _sign_in(auth, mine)
    factories.lead(mine, first_name="Ada", email="ada@mine.example")
    their_funnel = factories.funnel(theirs)
    their_origin = factories.origin(their_funnel)
    their_lead = factories.lead(
        theirs, first_name="Ada", email="ada@theirs.example", origin_id=their_origin.id
    )
    factories.journey(their_lead, their_funnel, their_origin)

    everything = client.get("/p/leads").get_data(as_text=True)
    searched = client.get("/p/leads?q=ada", headers=HTMX).get_data(as_text=True)
    by_funnel = client.get(f"/p/leads?funnel={their_funnel.id}", headers=HTMX)
    by_origin = client.get(f"/p/leads?origin={their_origin.id}", headers=HTMX)

    assert _emails(everything) == _emails(searched) == ["ada@mine.example"]
    assert their_funnel.name not in everything.split('id="lead-search"')[1].split("</form>")[0]
    assert _emails(by_funnel.get_data(as_text=True)) == []
    assert _emails(by_origin.get_data(as_text=True)) == []


def test_the_filter_form_offers_the_workspace_funnels_and_origins(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, "Spring")
    origin = factories.origin(funnel)

    body = client.get(f"/p/leads?origin={origin.id}").get_data(as_text=True)

    assert f'<option value="{funnel.id}">Spring</option>' in body
    assert '<optgroup label="Spring">' in body
    assert f'<option value="{origin.id}" selected>api origin</option>' in body


def test_a_manager_can_list_leads(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    factories.lead(ws, email="seen@example.com")

    response = client.get("/p/leads")

    assert response.status_code == 200
    assert _emails(response.get_data(as_text=True)) == ["seen@example.com"]


def test_the_list_needs_sign_in(client):
    response = client.get("/p/leads")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_search_from_the_form_puts_only_the_set_filters_in_the_address_bar(client, auth):
    _sign_in(auth)
    form_fields = {"q": "ada", "status": "", "origin": "", "funnel": "", "tag": "vip"}

    searched = client.get(
        "/p/leads", query_string=form_fields, headers={**HTMX, "HX-Source": "form#lead-search"}
    )
    more = client.get("/p/leads", query_string=form_fields, headers=HTMX)

    assert searched.headers["HX-Push-Url"] == "/p/leads?q=ada&tag=vip"
    assert "HX-Push-Url" not in more.headers  # "Load more" and other requests keep the URL


def test_phones_show_national_for_the_workspace_country_and_international_otherwise(client, auth):
    ws = _sign_in(auth)
    ws.default_country = "NL"
    factories.lead(ws, phone="+31612345678")
    factories.lead(ws, phone="+12025550100")

    body = client.get("/p/leads").get_data(as_text=True)

    assert '<td class="cell-mono" data-col="phone">06 12345678</td>' in body
    assert '<td class="cell-mono" data-col="phone">+1 202-555-0100</td>' in body
