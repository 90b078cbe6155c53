"""The leads list sorted by name, email, status or age: "Load more" walks each order without
skipping or repeating a lead, empty values included, and a cursor of one order is refused by
another."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from leadsite.backoffice import leads as leads_view
from tests import factories

HTMX = {"HX-Request": "true"}
ROW_ID = re.compile(r'<tr id="row-(lead_[^"]+)"')
LOAD_MORE = re.compile(r'<a class="button" href="([^"]+)"[^>]*data-load-more')
START = datetime(2026, 1, 1, tzinfo=UTC)
# (first name, last name, email, status); ties and empty values on purpose.
PEOPLE = [
    ("Ada", "Lovelace", "ada@example.com", "new"),
    ("ada", "Byron", "byron@example.com", "lost"),
    (None, None, None, "qualified"),
    ("Grace", "Hopper", "grace@example.com", "new"),
    ("Zoë", None, "zoe@example.com", "contacted"),
    (None, "Turing", "alan@example.com", "new"),
    ("Ada", "Lovelace", None, "customer"),
]


def _ids(body: str) -> list[str]:
    return ROW_ID.findall(body)


def _walk(client, query: dict[str, str]) -> list[str]:
    """Every lead id of the list in order, following "Load more" as htmx does."""
    body = client.get("/p/leads", query_string=query).get_data(as_text=True)
    ids = _ids(body)
    while match := LOAD_MORE.search(body):
        body = client.get(match.group(1).replace("&amp;", "&"), headers=HTMX).get_data(as_text=True)
        ids += _ids(body)
    return ids


@pytest.fixture
def people(client, auth, monkeypatch):
    monkeypatch.setattr(leads_view, "PAGE_SIZE", 2)
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    made = []
    for index, (first, last, email, status) in enumerate(PEOPLE):
        lead = factories.lead(
            ws,
            first_name=first,
            last_name=last,
            email=email,
            phone=f"+3161234567{index}",
            status=status,
            created_at=START + timedelta(hours=index % 3),  # created_at ties too
        )
        made.append(lead)
    return made


def _expected(people, key, reverse: bool) -> list[str]:
    return [lead.id for lead in sorted(people, key=key, reverse=reverse)]


def _name(lead):
    return ((lead.first_name or "").lower(), (lead.last_name or "").lower(), lead.id)


@pytest.mark.parametrize(
    ("sort", "key", "reverse"),
    [
        ("name", _name, False),
        ("-name", _name, True),
        ("email", lambda lead: (lead.email or "", lead.id), False),
        ("-email", lambda lead: (lead.email or "", lead.id), True),
        ("status", lambda lead: (lead.status, lead.created_at, lead.id), False),
        ("-status", lambda lead: (lead.status, lead.created_at, lead.id), True),
        ("created", lambda lead: (lead.created_at, lead.id), False),
        ("-created", lambda lead: (lead.created_at, lead.id), True),
    ],
)
def test_load_more_walks_each_order_without_gaps_or_repeats(client, people, sort, key, reverse):
    assert _walk(client, {"sort": sort}) == _expected(people, key, reverse)


def test_sorting_keeps_the_filters(client, people):
    news = [lead for lead in people if lead.status == "new"]

    ids = _walk(client, {"sort": "-email", "status": "new"})

    assert ids == _expected(news, lambda lead: (lead.email or "", lead.id), True)


def test_a_cursor_of_another_order_is_refused(client, people):
    body = client.get("/p/leads", query_string={"sort": "name"}).get_data(as_text=True)
    cursor = re.search(r"after=([^&\"]+)", LOAD_MORE.search(body).group(1)).group(1)

    response = client.get("/p/leads", query_string={"sort": "email", "after": cursor})

    assert response.status_code == 400
    assert "That “Load more” link is not valid." in response.get_data(as_text=True)


@pytest.mark.parametrize("sort", ["name", "-email", "status"])
def test_a_cursor_nested_past_the_json_parser_is_refused_not_a_500(client, people, sort):
    # Under 3 KB, as a URL carries it: JSON nested deeper than the parser recurses.
    cursor = base64.urlsafe_b64encode(b"[" * 1100 + b"]" * 1100).decode().rstrip("=")

    response = client.get("/p/leads", query_string={"sort": sort, "after": cursor})

    assert response.status_code == 400
    assert "That “Load more” link is not valid." in response.get_data(as_text=True)


def test_an_unknown_sort_is_newest_first(client, people):
    assert _walk(client, {"sort": "phone; drop table"}) == _walk(client, {})


def test_the_heading_of_the_sorted_column_says_so_and_links_to_the_reverse(client, people):
    body = client.get("/p/leads", query_string={"sort": "name"}).get_data(as_text=True)

    assert '<th scope="col" data-col="name" aria-sort="ascending">' in body
    assert 'href="/p/leads?sort=-name"' in body
    assert '<option value="name" selected>Name, A to Z</option>' in body


def test_chosen_columns_are_hidden_and_kept_by_load_more(client, people):
    query = {"cols": "1", "col": ["email", "status"]}

    body = client.get("/p/leads", query_string=query).get_data(as_text=True)

    assert 'data-hide="phone origin tags created"' in body
    assert '<input type="checkbox" name="col" value="email" checked>' in body
    assert '<input type="checkbox" name="col" value="phone">' in body
    assert "cols=1&amp;col=email&amp;col=status" in LOAD_MORE.search(body).group(1)
