"""The leads board: a column per status in the workspace's order, closed ones last, each with
its count and newest cards; a card moves by its status form, with or without JavaScript."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from leadsite.backoffice import lead_board
from leadsite.extensions import db
from leadsite.models import Lead, LeadStatus, Role
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
COLUMN = re.compile(r'<ol class="board-cards" data-status="([^"]+)"')


def _signed_in(client, auth, role: Role = Role.MANAGER):
    ws = factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _move(client, lead: Lead, status: str, htmx: bool = False):
    token = csrf_token(client, "/p/leads/board")
    return client.post(
        f"/p/leads/{lead.id}/status",
        data={"csrf_token": token, "status": status},
        headers=HTMX if htmx else None,
    )


def _column(body: str, key: str) -> str:
    start = body.index(f'data-status="{key}" aria-label')
    return body[start : body.index("</ol>", start)]


def test_columns_follow_the_status_order_with_closed_ones_last(client, auth):
    ws = _signed_in(client, auth)
    lost = db.session.scalar(db.select(LeadStatus).filter_by(workspace_id=ws.id, key="lost"))
    lost.position = -1  # first in the order, but closed
    db.session.commit()

    body = client.get("/p/leads/board").get_data(as_text=True)

    assert COLUMN.findall(body) == ["new", "contacted", "qualified", "lost", "customer"]


def test_a_column_shows_its_count_and_newest_cards_only(client, auth, monkeypatch):
    monkeypatch.setattr(lead_board, "BOARD_LIMIT", 2)
    ws = _signed_in(client, auth)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = [
        factories.lead(ws, first_name=f"N{i}", status="new", created_at=start + timedelta(i))
        for i in range(3)
    ]
    factories.lead(ws, first_name="Held", status="new", held=True)
    factories.lead(factories.workspace(), first_name="Elsewhere", status="new")

    body = client.get("/p/leads/board").get_data(as_text=True)

    column = _column(body, "new")
    assert re.findall(r'id="card-([^"]+)"', column) == [made[2].id, made[1].id]
    assert '<span class="board-count">3</span>' in body
    assert 'href="/p/leads?status=new">All 3 in the list</a>' in body
    assert "Held" not in body and "Elsewhere" not in body


def test_a_column_counts_up_to_a_cap(client, auth, monkeypatch):
    monkeypatch.setattr(lead_board, "COUNT_CAP", 2)
    ws = _signed_in(client, auth)
    for _ in range(3):
        factories.lead(ws, status="lost")
    factories.lead(ws, status="new")

    body = client.get("/p/leads/board").get_data(as_text=True)

    assert '<span class="board-count">2+</span>' in body
    assert '<span class="board-count">1</span>' in body


def test_a_card_moves_without_javascript(client, auth):
    ws = _signed_in(client, auth)
    lead = factories.lead(ws, first_name="Ada", status="new")

    response = _move(client, lead, "qualified")

    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/leads/board#card-{lead.id}"
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == "qualified"
    assert "Ada moved to “Qualified”." in client.get("/p/leads/board").get_data(as_text=True)


def test_a_card_moved_with_htmx_comes_back_in_its_new_column_focused(client, auth):
    ws = _signed_in(client, auth)
    lead = factories.lead(ws, first_name="Ada", status="new")

    response = _move(client, lead, "customer", htmx=True)

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="lead-board"')
    assert f'id="card-{lead.id}"' in _column(body, "customer")
    assert "data-focus-on-swap" in _column(body, "customer")


def test_moving_to_an_unknown_status_is_refused(client, auth):
    ws = _signed_in(client, auth)
    lead = factories.lead(ws, status="new")

    response = _move(client, lead, "hot", htmx=True)

    assert response.status_code == 422
    assert "Status must be one of these statuses: new, contacted" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).status == "new"


def test_a_lead_of_another_workspace_cannot_be_moved(client, auth):
    _signed_in(client, auth)
    other = factories.lead(factories.workspace(), status="new")

    response = _move(client, other, "lost")

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Lead, other.id).status == "new"
