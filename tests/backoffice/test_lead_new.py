"""The New lead form: inline with htmx or a page, registering through the back-office origin."""

from __future__ import annotations

import re

import pytest

from leadsite.extensions import db
from leadsite.models import (
    DataPointType,
    FunnelStatus,
    Journey,
    JourneyData,
    Lead,
    OnDuplicate,
    Origin,
    OriginKind,
    Role,
    Workspace,
)
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _post(client, data: dict[str, str], headers: dict[str, str] | None = None):
    token = csrf_token(client, "/p/leads/new")
    return client.post("/p/leads/new", data={**data, "csrf_token": token}, headers=headers)


def _leads(ws: Workspace) -> list[Lead]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Lead).filter_by(workspace_id=ws.id)))


def test_the_form_is_a_page_without_htmx_and_a_block_with_it(client, auth):
    ws = _sign_in(auth)
    factories.funnel(ws, "Webinar")

    full = client.get("/p/leads/new")
    partial = client.get("/p/leads/new", headers=HTMX)

    assert full.status_code == partial.status_code == 200
    page, fragment = full.get_data(as_text=True), partial.get_data(as_text=True)
    assert "<html" in page and 'name="email"' in page and "Webinar" in page
    assert "hx-post" not in page  # the page posts as a plain form and goes back to the list
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="lead-new"')
    assert 'hx-post="/p/leads/new"' in fragment and 'data-close="#lead-new"' in fragment
    assert 'id="flash"' in fragment
    assert "HX-Request" in full.headers["Vary"]


def test_the_list_has_a_new_button_that_opens_the_form_inline(client, auth):
    _sign_in(auth)

    body = client.get("/p/leads").get_data(as_text=True)

    assert 'href="/p/leads/new" hx-get="/p/leads/new" hx-target="#lead-new-slot"' in body
    assert '<div id="lead-new-slot"></div>' in body


def test_only_open_funnels_of_the_workspace_are_offered(client, auth):
    ws = _sign_in(auth)
    factories.funnel(ws, "Open one")
    factories.funnel(ws, "Draft one", status=FunnelStatus.DRAFT)
    factories.funnel(factories.workspace(), "Someone else's")

    body = client.get("/p/leads/new").get_data(as_text=True)

    assert "Open one" in body
    assert "Draft one" not in body and "Someone else" not in body


def test_with_no_open_funnel_the_form_says_what_to_do(client, auth):
    _sign_in(auth)

    body = client.get("/p/leads/new").get_data(as_text=True)

    assert "No funnel takes registrations now" in body
    assert 'name="email"' not in body


def test_errors_are_shown_on_their_fields_and_the_typed_values_stay(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(
        client,
        {
            "funnel": funnel.id,
            "first_name": "Ada",
            "email": "ada-at-example",
            "phone": "12",
            "tags": "vip",
        },
        headers=HTMX,
    )

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="lead-new"')
    assert 'id="email-error"' in body and "Email needs an @ sign." in body
    assert 'id="phone-error"' in body and "phone number" in body
    assert 'value="Ada"' in body and 'value="ada-at-example"' in body and 'value="vip"' in body
    assert '<details class="more-fields" open>' in body  # the tags typed stay visible
    assert _leads(ws) == []


def test_the_first_field_in_error_is_focused_once_as_htmx_swaps_the_form_in(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    data = {"funnel": funnel.id, "first_name": "Ada", "email": "ada-at-example"}

    swapped = _post(client, data, headers=HTMX).get_data(as_text=True)
    page = _post(client, data).get_data(as_text=True)

    # Swapped in: data-focus-on-swap (static/js/focus-on-swap.js), not autofocus, which Chromium
    # focuses at the insert and htmx again at the settle, undoing a Tab pressed in between.
    assert re.search(r'<input[^>]*data-focus-on-swap[^>]*name="email"', swapped)
    assert "autofocus" not in swapped
    assert re.search(r'<input[^>]*autofocus[^>]*name="email"', page)
    assert "data-focus-on-swap" not in page


def test_the_funnel_identifier_is_required(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(client, {"funnel": funnel.id, "first_name": "Ada"}, headers=HTMX)

    assert response.status_code == 422
    assert "Email is required: this funnel identifies leads by it" in response.get_data(
        as_text=True
    )


def test_saving_registers_through_a_back_office_origin_made_on_first_use(client, auth):
    ws = _sign_in(auth)
    funnel = factories.staged_funnel(ws)
    factories.lead(ws, email="older@example.com")

    response = _post(
        client,
        {
            "funnel": funnel.id,
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "Grace@Navy.example",
            "status": "qualified",
            "tags": "vip, navy",
            "opt_in": "y",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert '<hx-partial hx-target="#lead-rows" hx-swap="afterbegin">' in body
    assert "grace@navy.example" in body and "Grace Hopper" in body
    assert "Lead “Grace Hopper” created." in body  # the flash, swapped out of band
    lead = next(lead for lead in _leads(ws) if lead.email == "grace@navy.example")
    assert (lead.status, lead.tags, lead.opt_in) == ("qualified", ["vip", "navy"], True)
    origin = db.session.get(Origin, lead.origin_id)
    assert (origin.kind, origin.funnel_id) == (OriginKind.BACKOFFICE, funnel.id)
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=lead.id))
    assert journey.funnel_id == funnel.id and journey.origin_id == origin.id

    _post(client, {"funnel": funnel.id, "email": "second@example.com"}, headers=HTMX)
    origins = db.session.scalars(db.select(Origin).filter_by(funnel_id=funnel.id)).all()
    assert len(origins) == 1  # the same origin the second time


def test_an_empty_list_gets_the_table_with_the_first_row(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    body = _post(client, {"funnel": funnel.id, "email": "first@example.com"}, headers=HTMX)

    text = body.get_data(as_text=True)
    assert '<hx-partial hx-target="#lead-empty" hx-swap="outerHTML">' in text
    assert '<form id="lead-bulk"' in text and "first@example.com" in text


def test_without_javascript_saving_goes_back_to_the_list(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(client, {"funnel": funnel.id, "email": "plain@example.com"})

    assert response.status_code == 302 and response.headers["Location"] == "/p/leads"
    page = client.get("/p/leads").get_data(as_text=True)
    assert "plain@example.com" in page and "created." in page


def test_without_javascript_errors_render_the_page_with_422(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(client, {"funnel": funnel.id, "email": "nope"})

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" in body and 'value="nope"' in body and 'id="email-error"' in body


def test_a_duplicate_is_refused_when_the_funnel_rejects_them(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, on_duplicate=OnDuplicate.REJECT)
    existing = factories.lead(ws, email="taken@example.com")

    response = _post(client, {"funnel": funnel.id, "email": "taken@example.com"}, headers=HTMX)

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Another lead already has this email." in body
    assert f'href="/p/leads/{existing.id}"' in body


@pytest.mark.parametrize("headers", [HTMX, None], ids=["htmx", "without javascript"])
def test_a_known_email_asks_before_updating_that_lead(client, auth, headers):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)  # its rule: update known leads
    existing = factories.lead(ws, email="known@example.com", first_name="Ada", last_name="King")

    response = _post(
        client, {"funnel": funnel.id, "email": "known@example.com", "first_name": "New"}, headers
    )

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<strong>Ada King</strong> is already a lead." in body
    assert f'<a class="button" href="/p/leads/{existing.id}">Open the existing lead</a>' in body
    assert 'name="update_existing" value="y">Update Ada King</button>' in body
    assert 'value="New"' in body  # what staff typed stays in the form
    assert [(lead.first_name, lead.counter) for lead in _leads(ws)] == [("Ada", 1)]
    assert db.session.scalar(db.select(db.func.count(Journey.id))) == 0


def test_a_known_lead_is_updated_when_staff_choose_to_and_its_row_replaced(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    existing = factories.lead(ws, email="known@example.com", first_name="Old")

    response = _post(
        client,
        {
            "funnel": funnel.id,
            "email": "known@example.com",
            "first_name": "New",
            "update_existing": "y",
        },
        HTMX,
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<hx-partial hx-target="#row-{existing.id}" hx-swap="outerHTML">' in body
    assert "already a lead" in body
    assert [lead.first_name for lead in _leads(ws)] == ["New"]


def test_no_update_is_offered_when_the_funnel_rejects_duplicates(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, on_duplicate=OnDuplicate.REJECT)
    factories.lead(ws, email="taken@example.com", first_name="Ada")

    response = _post(
        client,
        {"funnel": funnel.id, "email": "taken@example.com", "update_existing": "y"},
        HTMX,
    )

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "update_existing" not in body and "Open the lead that has it" in body
    assert [lead.first_name for lead in _leads(ws)] == ["Ada"]


def test_journey_data_is_stored_and_its_errors_land_on_its_field(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    size = factories.data_point(ws, "team_size", type=DataPointType.NUMBER, label="Team size")
    field = f"point_{size.id}"

    refused = _post(client, {"funnel": funnel.id, "email": "a@example.com", field: "many"}, HTMX)
    accepted = _post(client, {"funnel": funnel.id, "email": "a@example.com", field: "12"}, HTMX)

    assert refused.status_code == 422
    assert f'id="{field}-error"' in refused.get_data(as_text=True)
    assert 'value="many"' in refused.get_data(as_text=True)
    assert accepted.status_code == 200
    assert db.session.scalar(db.select(JourneyData.value)) == 12


@pytest.mark.parametrize("which", ["draft", "other workspace"])
def test_a_funnel_not_offered_cannot_be_posted(client, auth, which):
    ws = _sign_in(auth)
    factories.funnel(ws)
    funnel = (
        factories.funnel(ws, status=FunnelStatus.DRAFT)
        if which == "draft"
        else factories.funnel(factories.workspace())
    )

    response = _post(client, {"funnel": funnel.id, "email": "x@example.com"}, headers=HTMX)

    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_a_switched_off_back_office_origin_is_not_bypassed(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.origin(funnel, OriginKind.BACKOFFICE, active=False)

    response = _post(client, {"funnel": funnel.id, "email": "x@example.com"}, headers=HTMX)

    assert response.status_code == 422
    assert "back-office origin is switched off" in response.get_data(as_text=True)


def test_managers_add_leads_too(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    funnel = factories.funnel(ws)

    response = _post(client, {"funnel": funnel.id, "email": "m@example.com"}, headers=HTMX)

    assert response.status_code == 200
    assert [lead.email for lead in _leads(ws)] == ["m@example.com"]


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/p/leads/new")

    assert response.status_code == 302 and "/login" in response.headers["Location"]
