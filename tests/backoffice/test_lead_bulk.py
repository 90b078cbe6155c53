"""Bulk actions on ticked leads: set status, add tag, export, erase (after confirming)."""

from __future__ import annotations

import csv
import io

import pytest

from leadsite.extensions import db
from leadsite.models import Event, Lead, Role, Workspace
from leadsite.outbox import event_types
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _bulk(client, leads: list[Lead], htmx: bool = True, path: str = "/p/leads/bulk", **data):
    token = csrf_token(client, "/p/leads")
    form = {"csrf_token": token, "lead": [lead.id for lead in leads], **data}
    return client.post(path, data=form, headers=HTMX if htmx else None)


def _fresh(leads: list[Lead]) -> list[Lead]:
    db.session.expire_all()
    return [db.session.get(Lead, lead.id) for lead in leads]


def test_the_list_has_the_bulk_form_and_a_box_on_every_row(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws)

    body = client.get("/p/leads", query_string={"status": "new"}).get_data(as_text=True)

    assert '<form id="lead-bulk"' in body and 'name="return_to" value="/p/leads?status=new"' in body
    assert f'name="lead" value="{lead.id}" form="lead-bulk"' in body
    assert "data-select-all" in body and 'formaction="/p/leads/export/selected"' in body


def test_set_status_changes_only_the_ticked_leads_and_their_rows(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    first, second, untouched = (factories.lead(ws, status="new") for _ in range(3))

    response = _bulk(client, [first, second], action="status", value="contacted")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    for lead in (first, second):
        assert f'<hx-partial hx-target="#row-{lead.id}" hx-swap="outerHTML">' in body
    assert 'data-status="contacted"' in body and " checked " in body  # still ticked
    assert "Status “contacted” set on 2 of 2 leads." in body
    assert [lead.status for lead in _fresh([first, second, untouched])] == [
        "contacted",
        "contacted",
        "new",
    ]
    updates = db.session.scalars(db.select(Event).filter_by(type=event_types.LEAD_UPDATED)).all()
    assert {event.lead_id for event in updates} == {first.id, second.id}


def test_add_tag_skips_leads_that_have_it_and_leads_that_are_full(client, auth):
    ws = _sign_in(auth)
    plain = factories.lead(ws, tags=["a"])
    tagged = factories.lead(ws, tags=["vip"])
    full = factories.lead(ws, tags=[f"t{n}" for n in range(20)])

    response = _bulk(client, [plain, tagged, full], action="tag", value="vip")

    assert "Tag “vip” added to 1 of 3 leads. 1 already had 20 tags" in response.get_data(
        as_text=True
    )
    assert [lead.tags for lead in _fresh([plain, tagged])] == [["a", "vip"], ["vip"]]


@pytest.mark.parametrize(
    ("action", "value", "message"),
    [
        ("status", "", "Type the status to set"),
        ("status", "x" * 41, "Status must be at most 40 characters"),
        ("tag", "a,b", "Type one tag to add"),
        ("nothing", "", "Choose what to do"),
    ],
)
def test_bad_input_is_refused_in_the_panel(client, auth, action, value, message):
    ws = _sign_in(auth)
    lead = factories.lead(ws, status="new")

    response = _bulk(client, [lead], action=action, value=value)

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<p class="form-errors" role="alert">') and message in body
    assert _fresh([lead])[0].status == "new"


def test_nothing_ticked_says_so(client, auth):
    _sign_in(auth)

    response = _bulk(client, [], action="status", value="lost")

    assert response.status_code == 422 and "Tick at least one lead" in response.get_data(
        as_text=True
    )


def test_another_workspaces_leads_are_ignored(client, auth):
    ws = _sign_in(auth)
    mine = factories.lead(ws, status="new")
    theirs = factories.lead(factories.workspace(), status="new")

    _bulk(client, [mine, theirs], action="status", value="lost")

    assert [lead.status for lead in _fresh([mine, theirs])] == ["lost", "new"]


def test_without_javascript_the_action_redirects_back_to_the_filtered_list(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, status="new")

    response = _bulk(
        client, [lead], htmx=False, action="status", value="lost", return_to="/p/leads?tag=x"
    )
    evil = _bulk(
        client, [lead], htmx=False, action="status", value="won", return_to="//evil.example/p"
    )

    assert response.status_code == 303 and response.headers["Location"] == "/p/leads?tag=x"
    assert evil.headers["Location"] == "/p/leads"


def test_erase_asks_first_naming_the_leads(client, auth):
    ws = _sign_in(auth)
    ada = factories.lead(ws, first_name="Ada", email="ada@example.com")

    panel = _bulk(client, [ada], action="erase")
    page = _bulk(client, [ada], htmx=False, action="erase")

    body = panel.get_data(as_text=True)
    assert panel.status_code == 200 and body.lstrip().startswith('<div id="bulk-erase-confirm"')
    assert "Erase the personal data of 1 lead?" in body and "<strong>Ada</strong>" in body
    assert f'name="confirm_lead" value="{ada.id}"' in body and "anonymous record" in body
    assert 'hx-post="/p/leads/bulk"' in body and "<form" not in body  # inside the list's form
    assert "<html" in page.get_data(as_text=True) and "<form" in page.get_data(as_text=True)
    assert _fresh([ada])[0].email == "ada@example.com"  # nothing erased yet


def test_confirmed_erase_removes_the_rows_and_keeps_anonymous_records(client, auth):
    ws = _sign_in(auth)
    ada, grace = factories.lead(ws, email="ada@example.com"), factories.lead(ws)
    token = csrf_token(client, "/p/leads")

    response = client.post(
        "/p/leads/bulk",
        data={
            "csrf_token": token,
            "erase_confirmed": "1",
            "confirm_lead": [ada.id],
            "lead": [ada.id, grace.id],  # the boxes ticked meanwhile do not count
        },
        headers=HTMX,
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<hx-partial hx-target="#row-{ada.id}" hx-swap="delete"></hx-partial>' in body
    assert grace.id not in body and "Personal data of 1 lead erased" in body
    ada, grace = _fresh([ada, grace])
    assert ada.erased_at is not None and ada.email is None and grace.erased_at is None
    assert ada.id not in client.get("/p/leads").get_data(as_text=True)


def test_erasing_the_last_rows_of_the_list_shows_its_empty_state(client, auth):
    """The erased rows went and left the table's header alone on the page; a reload said "No
    leads match". Rows still matching keep the table."""
    ws = _sign_in(auth)
    ada = factories.lead(ws, first_name="Ada", email="ada@example.com")
    grace = factories.lead(ws, first_name="Grace", email="grace@example.com")

    def erase(lead: Lead, return_to: str) -> str:
        data = {
            "csrf_token": csrf_token(client, "/p/leads"),
            "erase_confirmed": "1",
            "confirm_lead": [lead.id],
            "return_to": return_to,
        }
        return client.post("/p/leads/bulk", data=data, headers=HTMX).get_data(as_text=True)

    some_left = erase(ada, "/p/leads")
    searched = erase(grace, "/p/leads?q=grace")

    assert 'hx-target="#lead-bulk"' not in some_left
    assert '<hx-partial hx-target="#lead-bulk" hx-swap="outerHTML">' in searched
    assert "No leads match." in searched and "Clear the search and filters" in searched


def test_export_selected_streams_only_those_leads(client, auth):
    ws = _sign_in(auth)
    ada = factories.lead(ws, email="ada@example.com")
    factories.lead(ws, email="grace@example.com")
    theirs = factories.lead(factories.workspace(), email="theirs@example.com")

    response = _bulk(client, [ada, theirs], htmx=False, path="/p/leads/export/selected")

    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"].startswith('attachment; filename="leads-')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["email"] for row in rows] == ["ada@example.com"]
