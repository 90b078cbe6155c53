"""Managed lead statuses: new workspaces get the defaults, every door accepts only known keys,
Settings adds, renames, orders and deletes them (moving the leads of one in use)."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, LeadStatus, Role
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
DEFAULT_KEYS = ["new", "contacted", "qualified", "customer", "lost"]
ALLOWED = "must be one of these statuses: new, contacted, qualified, customer, lost"


def _keys(ws) -> list[str]:
    rows = db.session.scalars(
        db.select(LeadStatus.key).filter_by(workspace_id=ws.id).order_by(LeadStatus.position)
    )
    return list(rows)


def _status_of(lead: Lead) -> str:
    db.session.expire_all()
    return db.session.get(Lead, lead.id).status


def test_a_new_workspace_gets_the_default_statuses_in_order():
    ws = factories.workspace()

    statuses = db.session.scalars(
        db.select(LeadStatus).filter_by(workspace_id=ws.id).order_by(LeadStatus.position)
    ).all()

    assert [s.key for s in statuses] == DEFAULT_KEYS
    assert [s.closed for s in statuses] == [False, False, False, True, True]


def test_the_lead_page_refuses_an_unknown_status_on_its_field(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    lead = factories.lead(ws, status="new")
    url = f"/p/leads/{lead.id}/status/edit"

    response = client.post(
        url,
        data={"csrf_token": csrf_token(client, url), "status": "hot", "tags": ""},
        headers=HTMX,
    )

    assert response.status_code == 422
    assert ALLOWED in response.get_data(as_text=True)
    assert _status_of(lead) == "new"


def test_the_lead_page_offers_the_workspace_s_statuses_by_name_in_a_list(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    status = db.session.scalar(db.select(LeadStatus).filter_by(workspace_id=ws.id, key="lost"))
    status.name = "Gone elsewhere"
    lead = factories.lead(ws, status="contacted")
    db.session.commit()

    body = client.get(f"/p/leads/{lead.id}/status/edit", headers=HTMX).get_data(as_text=True)

    assert 'id="status" name="status" required><option' in body and "datalist" not in body
    assert '<option value="lost">Gone elsewhere</option>' in body
    assert '<option selected value="contacted">Contacted</option>' in body


def test_bulk_set_status_refuses_an_unknown_status(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws, role=Role.MANAGER).email)
    lead = factories.lead(ws, status="new")
    form = {"csrf_token": csrf_token(client, "/p/leads"), "lead": [lead.id]}

    response = client.post(
        "/p/leads/bulk", data={**form, "action": "status", "value": "hot"}, headers=HTMX
    )

    assert response.status_code == 422
    assert f"Status {ALLOWED}." in response.get_data(as_text=True)
    assert _status_of(lead) == "new"


def _settings(client, auth, ws=None):
    ws = ws or factories.workspace()
    auth.login(factories.user(ws).email)
    return ws, csrf_token(client, "/p/settings/statuses")


def test_an_administrator_adds_a_status_at_the_end_with_a_key_from_its_name(client, auth):
    ws, token = _settings(client, auth)

    response = client.post(
        "/p/settings/statuses",
        data={"csrf_token": token, "name": "Demo booked", "colour": "#112233"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Status “Demo booked” added." in response.get_data(as_text=True)
    assert _keys(ws) == [*DEFAULT_KEYS, "demo_booked"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "colour": "#112233"}, "This field is required."),
        ({"name": "Lost", "colour": "#112233"}, "Gives the key “lost”, which another status has."),
        ({"name": "Won", "colour": "red"}, "Use a colour like #2563eb."),
    ],
)
def test_a_bad_new_status_is_refused_on_its_field(client, auth, data, message):
    ws, token = _settings(client, auth)

    response = client.post("/p/settings/statuses", data={"csrf_token": token, **data}, headers=HTMX)

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body, body[body.find("Add a status") :]
    assert _keys(ws) == DEFAULT_KEYS


def test_managers_cannot_manage_statuses(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws, role=Role.MANAGER).email)

    assert client.get("/p/settings/statuses").status_code == 403


def test_renaming_keeps_the_key_and_moving_changes_the_order(client, auth):
    ws, token = _settings(client, auth)
    lost = db.session.scalar(db.select(LeadStatus).filter_by(workspace_id=ws.id, key="lost"))

    client.post(
        f"/p/settings/statuses/{lost.id}",
        data={"csrf_token": token, "name": "Gone", "colour": "#000000", "closed": "y"},
    )
    client.post(f"/p/settings/statuses/{lost.id}/up", data={"csrf_token": token})

    db.session.expire_all()
    assert (lost.key, lost.name, lost.colour) == ("lost", "Gone", "#000000")
    assert _keys(ws) == ["new", "contacted", "qualified", "lost", "customer"]


def test_a_status_in_use_is_not_deleted_until_its_leads_move(client, auth):
    ws, token = _settings(client, auth)
    leads = [factories.lead(ws, status="contacted") for _ in range(2)]
    other = factories.lead(ws, status="new")
    contacted = db.session.scalar(
        db.select(LeadStatus).filter_by(workspace_id=ws.id, key="contacted")
    )
    url = f"/p/settings/statuses/{contacted.id}/delete"

    refused = client.post(url, data={"csrf_token": token}, headers=HTMX)
    moved = client.post(url, data={"csrf_token": token, "move_to": "qualified"}, headers=HTMX)

    assert refused.status_code == 409
    refusal = refused.get_data(as_text=True)
    assert "2 leads have “Contacted”: move them to another status to delete it." in refusal
    assert 'name="move_to"' in refusal
    assert moved.status_code == 200
    assert "2 leads moved to “Qualified”; status “Contacted” deleted." in moved.get_data(
        as_text=True
    )
    assert [_status_of(lead) for lead in leads] == ["qualified", "qualified"]
    assert _status_of(other) == "new"
    assert "contacted" not in _keys(ws)


def test_an_unused_status_is_deleted_without_javascript(client, auth):
    ws, token = _settings(client, auth)
    lost = db.session.scalar(db.select(LeadStatus).filter_by(workspace_id=ws.id, key="lost"))

    response = client.post(f"/p/settings/statuses/{lost.id}/delete", data={"csrf_token": token})

    assert response.status_code == 303
    assert _keys(ws) == ["new", "contacted", "qualified", "customer"]


def test_the_status_new_leads_get_cannot_be_deleted(client, auth):
    ws, token = _settings(client, auth)
    new = db.session.scalar(db.select(LeadStatus).filter_by(workspace_id=ws.id, key="new"))

    page = client.get("/p/settings/statuses").get_data(as_text=True)
    refused = client.post(
        f"/p/settings/statuses/{new.id}/delete",
        data={"csrf_token": token, "move_to": "contacted"},
    )

    assert f"/p/settings/statuses/{new.id}/delete" not in page
    assert refused.status_code == 409
    assert "is the status every new lead gets: rename it instead." in refused.get_data(as_text=True)
    assert _keys(ws)[0] == "new"


def test_a_rename_to_nothing_is_refused_with_the_edit_form_open(client, auth):
    ws, token = _settings(client, auth)
    new = db.session.scalar(db.select(LeadStatus).filter_by(workspace_id=ws.id, key="new"))

    response = client.post(
        f"/p/settings/statuses/{new.id}",
        data={"csrf_token": token, "name": " ", "colour": "#2563eb"},
        headers=HTMX,
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<details class="status-edit" open>' in body
    assert f'<p class="field-error" id="name-{new.id}-error">This field is required.</p>' in body
    db.session.expire_all()
    assert new.name == "New"
