"""Rules every door shares: possible phones are kept, two people never share one lead through a
phone, and a workspace's default API origin serves calls that name none."""

from __future__ import annotations

import phonenumbers
import pytest

from leadsite.extensions import db
from leadsite.models import Event, Lead, OnDuplicate, OriginKind
from tests import factories
from tests.conftest import csrf_token


def _lead(email: str) -> Lead | None:
    return db.session.scalar(db.select(Lead).filter_by(email=email))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("+1-555-123-4567", "+15551234567"),  # the chatbot document's: possible, not assigned
        ("+1 (800) 555\u20110175", "+18005550175"),
        ("(202) 555-0100", "+12025550100"),  # national, read with the workspace's country
        ("+44 20 7946 0000", "+442079460000"),
    ],
)
def test_a_possible_phone_is_accepted_and_stored_in_e164(api, sent, stored):
    response = api.register({"email": "p@example.com", "phone": sent})

    assert response.status_code == 201, response.json
    lead = _lead("p@example.com")
    assert lead.phone == stored
    event = db.session.scalar(db.select(Event).filter_by(lead_id=lead.id, type="lead.created"))
    # Kept either way; the event notes whether the number is in an assigned range.
    assert event.payload["registration"]["phone_assigned"] is (sent != "+1-555-123-4567")


def test_a_registration_parses_its_phone_once(api, monkeypatch):
    """`clean` parses it; the event's `phone_assigned` reads what that parse found (parsing the
    E.164 text again cost as much as the check: an import's rows with phones paid it twice)."""
    parsed = []
    parse = phonenumbers.parse
    monkeypatch.setattr(phonenumbers, "parse", lambda *a, **k: parsed.append(a) or parse(*a, **k))

    response = api.register({"email": "p@example.com", "phone": "+44 20 7946 0000"})

    assert response.status_code == 201, response.json
    assert parsed == [("+44 20 7946 0000", "US")]
    event = db.session.scalar(db.select(Event).filter_by(type="lead.created"))
    assert event.payload["registration"]["phone_assigned"] is True


@pytest.mark.parametrize("sent", ["12", "+1 555", "+1 555 123 4567 8901 2345", "phone me"])
def test_an_impossible_phone_is_a_validation_error(api, sent):
    response = api.register({"email": "p@example.com", "phone": sent})

    assert response.status_code == 422
    assert response.json["details"]["field"] == "phone"
    assert _lead("p@example.com") is None


def test_a_second_person_with_the_phone_of_the_first_gets_a_lead_of_their_own(api):
    first = api.register({"email": "a@x.example", "first_name": "Ann", "phone": "+12025550100"})

    second = api.register({"email": "b@x.example", "first_name": "Bea", "phone": "+12025550100"})

    assert second.status_code == 201
    ann, bea = _lead("a@x.example"), _lead("b@x.example")
    assert (ann.first_name, ann.phone, ann.counter) == ("Ann", "+12025550100", 1)
    assert (bea.id, bea.first_name, bea.phone) == (second.json["data"]["id"], "Bea", None)
    [warning] = second.json["warnings"]
    assert warning["code"] == "IDENTIFIER_CONFLICT"
    assert (warning["field"], warning["value"]) == ("phone", "+12025550100")
    assert warning["existingLeadId"] == first.json["data"]["id"]
    assert "created without it" in warning["message"]
    event = db.session.scalar(db.select(Event).filter_by(lead_id=bea.id, type="lead.created"))
    assert event.payload["registration"]["warnings"] == [warning]


def test_the_phone_matches_a_lead_that_has_no_email_yet(api):
    factories.registered(api.origin, email="a@x.example")
    phone_only = factories.lead(api.workspace, email=None, phone="+12025550100")

    response = api.register({"email": "b@x.example", "phone": "+12025550100", "first_name": "B"})

    assert response.status_code == 200
    assert response.json["data"]["id"] == phone_only.id
    db.session.refresh(phone_only)
    assert (phone_only.email, phone_only.first_name) == ("b@x.example", "B")
    assert response.json["warnings"] == []


def test_a_matched_lead_keeps_its_email_and_the_phone_another_holds_is_reported(api):
    factories.registered(api.origin, email="a@x.example", phone="+12025550100")
    factories.registered(api.origin, email="b@x.example")

    response = api.register({"email": "b@x.example", "phone": "+12025550100"})

    assert response.status_code == 200
    assert _lead("b@x.example").phone is None
    assert _lead("a@x.example").phone == "+12025550100"
    assert [w["field"] for w in response.json["warnings"]] == ["phone"]


def test_a_conflict_is_not_a_duplicate_when_the_funnel_rejects_duplicates(api):
    api.funnel.on_duplicate = OnDuplicate.REJECT
    db.session.commit()
    api.register({"email": "a@x.example", "phone": "+12025550100"})

    response = api.register({"email": "b@x.example", "phone": "+12025550100"})

    assert response.status_code == 201
    assert _lead("b@x.example").phone is None


def test_without_a_ref_the_workspace_default_api_origin_serves_the_call(api):
    other = factories.origin(api.funnel, OriginKind.API)
    api.workspace.default_origin_id = other.id
    db.session.commit()

    response = api.client.post("/api/v1/leads", json={"email": "d@example.com"}, headers=api.auth)

    assert response.status_code == 201
    assert _lead("d@example.com").origin_id == other.id


def test_another_workspace_default_origin_never_serves_this_one(api):
    elsewhere = factories.workspace()
    foreign = factories.origin(factories.funnel(elsewhere))
    elsewhere.default_origin_id = foreign.id
    db.session.commit()

    response = api.client.post("/api/v1/leads", json={"email": "d@example.com"}, headers=api.auth)

    assert response.status_code == 404
    assert "/p/settings/workspace" in response.json["error"]
    assert _lead("d@example.com") is None


def test_an_administrator_chooses_the_default_api_origin_in_workspace_settings(client, auth):
    ws = factories.workspace("Acme")
    funnel = factories.funnel(ws, name="Trials")
    api_origin = factories.origin(funnel, OriginKind.API)
    page_origin = factories.origin(funnel, OriginKind.PAGE)
    foreign = factories.origin(factories.funnel(factories.workspace()), OriginKind.API)
    auth.login(factories.user(ws).email)
    page = client.get("/p/settings/workspace").get_data(as_text=True)
    assert f'value="{api_origin.id}"' in page
    assert page_origin.id not in page and foreign.id not in page

    def save(origin_id: str):
        return client.post(
            "/p/settings/workspace",
            data={
                "name": "Acme",
                "timezone": "UTC",
                "default_country": "US",
                "default_origin_id": origin_id,
                "csrf_token": csrf_token(client, "/p/settings/workspace"),
            },
        )

    assert save(foreign.id).status_code == 422
    db.session.refresh(ws)
    assert ws.default_origin_id is None
    assert save(api_origin.id).status_code == 302
    db.session.refresh(ws)
    assert ws.default_origin_id == api_origin.id
    assert save("").status_code == 302
    db.session.refresh(ws)
    assert ws.default_origin_id is None


def test_deleting_the_default_origin_leaves_the_workspace_without_one(api):
    api.workspace.default_origin_id = api.origin.id
    db.session.commit()

    db.session.delete(api.origin)
    db.session.commit()

    db.session.refresh(api.workspace)
    assert api.workspace.default_origin_id is None
