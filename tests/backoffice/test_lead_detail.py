"""The lead page: every field, sections edited in place, consent, timeline; other workspaces 404."""

from __future__ import annotations

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


def _save(client, lead: Lead, section: str, data: dict[str, str], htmx: bool = True):
    path = f"/p/leads/{lead.id}/{section}/edit"
    token = csrf_token(client, path)
    return client.post(path, data={**data, "csrf_token": token}, headers=HTMX if htmx else None)


def _fresh(lead: Lead) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead.id)


def test_the_page_shows_every_field(client, auth):
    ws = _sign_in(auth)
    ws.timezone = "UTC"
    origin = factories.origin(factories.funnel(ws, "Spring fair"))
    lead = factories.registered(
        origin,
        email="ada@example.com",
        phone="+31612345678",
        first_name="Ada",
        last_name="Lovelace",
        unique_id="CRM-7",
        address="12 Analytical Row",
        status="qualified",
        tags=["vip", "math"],
        source="newsletter",
        source_url="https://example.com/spring?utm_source=mail&utm_campaign=spring",
        custom_fields={"plan": "pro", "seats": 12},
        opt_in=True,
        consent={"text": "I agree", "version": "3"},
    )

    response = client.get(f"/p/leads/{lead.id}")

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    for text in (
        "Ada Lovelace",
        "ada@example.com",
        "+31612345678",
        "CRM-7",
        "12 Analytical Row",
        'data-status="qualified"',
        '<span class="tag">vip</span>',
        "newsletter",
        "https://example.com/spring?utm_source=mail&amp;utm_campaign=spring",
        "spring",  # utm_campaign, read from the source URL
        "<dt>plan</dt><dd>pro</dd>",
        "<dt>seats</dt><dd>12</dd>",
        "Opted in",
        "I agree",
        "api origin",
        "Spring fair",
        lead.id,
    ):
        assert text in body, text


def test_with_htmx_the_page_is_one_block(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, first_name="Ada")

    response = client.get(f"/p/leads/{lead.id}", headers=HTMX)

    body = response.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="lead-page"')
    assert "HX-Request" in response.headers["Vary"]


def test_the_name_in_the_list_links_to_the_page(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, first_name="Ada")

    body = client.get("/p/leads").get_data(as_text=True)

    assert f'<a href="/p/leads/{lead.id}">Ada</a>' in body


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/contact",
        "/contact/edit",
        "/custom/edit",
        "/erase",
    ],
)
def test_another_workspaces_lead_is_not_found(client, auth, path):
    _sign_in(auth)
    other = factories.lead(factories.workspace(), email="secret@example.com")

    response = client.get(f"/p/leads/{other.id}{path}")

    assert response.status_code == 404
    assert "secret@example.com" not in response.get_data(as_text=True)


def test_an_unknown_section_is_not_found(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws)

    assert client.get(f"/p/leads/{lead.id}/journeys/edit").status_code == 404


@pytest.mark.parametrize("section", ["contact", "status", "consent", "custom"])
def test_edit_shows_the_section_as_a_form_and_cancel_shows_it_back(client, auth, section):
    ws = _sign_in(auth)
    lead = factories.lead(ws, first_name="Ada", custom_fields={"plan": "pro"})

    form = client.get(f"/p/leads/{lead.id}/{section}/edit", headers=HTMX)
    shown = client.get(f"/p/leads/{lead.id}/{section}", headers=HTMX)
    page = client.get(f"/p/leads/{lead.id}/{section}/edit")

    body = form.get_data(as_text=True)
    assert form.status_code == 200 and body.lstrip().startswith(f'<section id="lead-{section}"')
    assert f'hx-post="/p/leads/{lead.id}/{section}/edit"' in body and "<form" in body
    assert f'hx-get="/p/leads/{lead.id}/{section}"' in body  # Cancel
    assert "<form" not in shown.get_data(as_text=True).split('id="flash"')[0]
    assert "<html" in page.get_data(as_text=True) and 'class="section-form"' in page.get_data(
        as_text=True
    )


def test_saving_a_section_swaps_it_back_and_refreshes_the_head_and_timeline(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, first_name="Ada", last_name="Byron", email="ada@example.com")

    response = _save(
        client,
        lead,
        "contact",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+44 20 7946 0018",
            "unique_id": "",
            "address": "",
        },
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="lead-contact"') and "<form" not in body
    assert '<div id="lead-head" class="lead-head" hx-swap-oob="true">' in body
    assert 'id="lead-timeline"' in body and "Changed: last name, phone" in body
    assert "Saved." in body
    lead = _fresh(lead)
    assert (lead.last_name, lead.phone) == ("Lovelace", "+442079460018")
    event = db.session.scalar(db.select(Event).filter_by(lead_id=lead.id))
    assert event.type == event_types.LEAD_UPDATED and event.payload["changed"] == [
        "last_name",
        "phone",
    ]


def test_a_refused_value_keeps_the_form_with_the_error_and_what_was_typed(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, email="ada@example.com")

    response = _save(
        client, lead, "contact", {"email": "ada@@example", "first_name": "Ada", "phone": "x1"}
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<section id="lead-contact"') and "<form" in body
    assert 'id="email-error"' in body and 'value="ada@@example"' in body
    assert 'id="phone-error"' in body and 'value="Ada"' in body
    assert _fresh(lead).email == "ada@example.com"


def test_an_email_another_lead_has_is_refused_with_a_link_to_it(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, email="ada@example.com")
    other = factories.lead(ws, email="grace@example.com")

    response = _save(client, lead, "contact", {"email": "grace@example.com"})

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Another lead already has this email." in body and f"/p/leads/{other.id}" in body


def test_status_and_tags_are_saved(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, status="new", tags=["old"])

    response = _save(client, lead, "status", {"status": "customer", "tags": "vip, trial, vip"})

    assert response.status_code == 200
    lead = _fresh(lead)
    assert (lead.status, lead.tags) == ("customer", ["vip", "trial"])


def test_an_empty_status_is_refused(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, status="new")

    response = _save(client, lead, "status", {"status": "", "tags": ""})

    assert response.status_code == 422 and 'id="status-error"' in response.get_data(as_text=True)


def test_consent_is_saved_and_an_unchanged_form_writes_nothing(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws)

    _save(client, lead, "consent", {"sms_opt_in": "y"})
    _save(client, lead, "consent", {"sms_opt_in": "y"})

    lead = _fresh(lead)
    assert (lead.opt_in, lead.sms_opt_in) == (False, True)
    events = db.session.scalars(db.select(Event.type).filter_by(lead_id=lead.id)).all()
    assert events == [event_types.LEAD_UPDATED]  # the second save changed nothing


def test_custom_fields_are_changed_added_and_removed_and_keep_their_types(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, custom_fields={"plan": "pro", "seats": 12, "old": "x"})
    form = client.get(f"/p/leads/{lead.id}/custom/edit", headers=HTMX).get_data(as_text=True)
    assert 'name="key" value="seats"' in form and 'value="12"' in form

    response = _save(
        client,
        lead,
        "custom",
        {"key": ["plan", "seats", "old", "Colour"], "value": ["team", "12", "", "blue"]},
    )

    assert response.status_code == 200
    assert _fresh(lead).custom_fields == {"plan": "team", "seats": 12, "colour": "blue"}


def test_a_custom_value_without_a_name_is_refused(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, custom_fields={"plan": "pro"})

    response = _save(client, lead, "custom", {"key": ["plan", ""], "value": ["pro", "orphan"]})

    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Give the field holding “orphan” a name." in body
    assert _fresh(lead).custom_fields == {"plan": "pro"}


def test_without_javascript_a_save_redirects_to_the_section(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, status="new")

    response = _save(client, lead, "status", {"status": "lost", "tags": ""}, htmx=False)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/leads/{lead.id}#lead-status"


def test_double_opt_in_without_confirmation_shows_unconfirmed(client, auth):
    ws = _sign_in(auth)
    origin = factories.origin(factories.funnel(ws, double_opt_in=True))
    waiting = factories.registered(origin, email="waiting@example.com")
    plain = factories.registered(factories.origin(factories.funnel(ws)), email="p@example.com")

    assert "unconfirmed" in client.get(f"/p/leads/{waiting.id}").get_data(as_text=True)
    body = client.get(f"/p/leads/{plain.id}").get_data(as_text=True)
    assert "unconfirmed" not in body and "No double opt-in asked" in body


def test_the_timeline_lists_the_leads_events_newest_first(client, auth):
    ws = _sign_in(auth)
    origin = factories.origin(factories.staged_funnel(ws))
    lead = factories.registered(origin, email="ada@example.com")

    body = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)

    timeline = body.split('id="lead-timeline"')[1]
    assert "Registered" in timeline and "Journey created" in timeline
    assert "Origin: API endpoint" in timeline
    assert "Entered a stage" in timeline and "Welcome: no condition" in timeline
    assert timeline.index("Entered a stage") < timeline.index("Registered")


def test_an_erased_lead_has_no_edit_buttons_and_cannot_be_edited(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, email="gone@example.com")
    client.post(f"/p/leads/{lead.id}/erase", data={"csrf_token": csrf_token(client, "/p/")})

    page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)
    refused = client.get(f"/p/leads/{lead.id}/contact/edit")

    assert "Erased lead" in page and "Personal data erased on" in page
    assert "/contact/edit" not in page and "gone@example.com" not in page
    assert refused.status_code == 409


def test_a_section_without_htmx_is_the_whole_page(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, first_name="Ada")

    body = client.get(f"/p/leads/{lead.id}/status").get_data(as_text=True)

    assert "<html" in body and 'id="lead-contact"' in body and 'class="section-form"' not in body


def test_custom_fields_over_16_kb_are_refused_as_the_api_refuses_them(client, auth):
    ws = _sign_in(auth)
    lead = factories.lead(ws, custom_fields={"plan": "pro"})
    keys = [f"note{n}" for n in range(10)]

    response = _save(client, lead, "custom", {"key": keys, "value": ["x" * 2000] * 10})

    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Custom fields must total at most 16 KB" in body
    assert _fresh(lead).custom_fields == {"plan": "pro"}
