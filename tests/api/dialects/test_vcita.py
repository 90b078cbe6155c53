"""vcita's create-lead call, POST /platform/v1/leadgen (seed 004): every documented field, its
token header, the business, and its answers and errors."""

from __future__ import annotations

import pytest
import requests

from leadsite.extensions import db
from leadsite.models import Channel, Event, Lead, OutboxMessage
from tests import factories

URL = "/platform/v1/leadgen"
EVERY_FIELD = {
    "identifier_type": "email",
    "email": "jane@example.com",
    "unique_id": "crm-42",
    "phone": "+1 555 123 4567",
    "first_name": "Jane",
    "last_name": "Doe",
    "address": "1 Main Street, Springfield",
    "opt_in": "true",
    "opt_in_transactional_sms": True,
    "request_title": "Quote request",
    "message_data": {"Service": "Kitchen remodel"},
    "request_data": {"budget": "5000", "rooms": 2},
    "system_message": "Came from the <a href='https://example.com/kitchens'>kitchens</a> page",
    "source": "Spring campaign",
    "source_url": "https://example.com/kitchens?utm_source=flyer",
    "status": "Lead",
    "tags": "kitchen,spring",
    "notifications": "auto-reply,email,sms",
}


def _token(api) -> dict[str, str]:
    return {"Authorization": f'Token token="{api.key}"'}


def _emails(to: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target=to))
    )


def test_every_documented_field_registers_the_lead_and_its_request(default_api):
    api = default_api
    api.funnel.notify_emails = ["sales@example.com"]
    db.session.commit()

    response = api.client.post(
        URL, json=EVERY_FIELD, headers={**_token(api), "X-On-Behalf-Of": api.workspace.slug}
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"status", "uid", "conversation_uid"} and body["status"] == "OK"
    lead = db.session.get(Lead, body["uid"])
    assert (lead.email, lead.unique_id, lead.phone) == (
        "jane@example.com",
        "crm-42",
        "+15551234567",
    )
    assert (lead.first_name, lead.last_name, lead.address) == (
        "Jane",
        "Doe",
        "1 Main Street, Springfield",
    )
    assert (lead.opt_in, lead.sms_opt_in) == (True, True)
    # vcita's default client status, "Lead", is the status new leads get.
    assert (lead.source, lead.status, lead.tags) == (
        "Spring campaign",
        "new",
        ["kitchen", "spring"],
    )
    assert (lead.source_url, lead.utm_source) == (EVERY_FIELD["source_url"], "flyer")
    assert lead.custom_fields == {"budget": "5000", "rooms": 2}
    assert lead.origin_id == api.origin.id
    entry = db.session.get(Event, body["conversation_uid"])
    assert (entry.type, entry.lead_id) == ("lead.request", lead.id)
    assert entry.payload["title"] == "Quote request"
    assert entry.payload["message_data"] == {"Service": "Kitchen remodel"}
    assert entry.payload["request_data"] == {"budget": "5000", "rooms": 2}
    assert entry.payload["system_message"] == EVERY_FIELD["system_message"]
    [thanks] = _emails("jane@example.com")
    assert "Thank you" in thanks.payload["subject"]
    assert "List-Unsubscribe" in thanks.payload["headers"]
    [staff] = _emails("sales@example.com")
    assert "Jane Doe" in staff.payload["subject"]
    # The owner is told what Jane asked for, not only that she registered.
    assert "Request: Quote request" in staff.payload["text"]
    assert (
        "Service: Kitchen remodel" in staff.payload["text"] and "rooms: 2" in staff.payload["text"]
    )
    assert "Request: Quote request" in staff.payload["html"]


def test_the_request_shows_on_the_leads_timeline(default_api, client, auth):
    uid = default_api.client.post(URL, json=EVERY_FIELD, headers=_token(default_api)).json["uid"]
    auth.login(factories.user(default_api.workspace).email)

    page = client.get(f"/p/leads/{uid}").get_data(as_text=True)

    assert "Request" in page and "Quote request" in page and "budget: 5000" in page


def test_a_staff_sms_is_sent_for_an_update_when_asked(default_api):
    api = default_api
    api.funnel.settings = {"sms_staff": ["+14155550100"]}
    db.session.commit()
    body = {k: EVERY_FIELD[k] for k in ("identifier_type", "email", "first_name", "request_title")}

    api.client.post(URL, json=body, headers=_token(api))  # a new lead: the funnel's own SMS
    api.client.post(URL, json={**body, "notifications": "sms"}, headers=_token(api))
    api.client.post(URL, json=body, headers=_token(api))  # not asked: none

    texts = db.session.scalars(db.select(OutboxMessage).filter_by(channel=Channel.SMS)).all()
    assert [m.target for m in texts] == ["+14155550100", "+14155550100"]


def test_identifier_type_unique_id_decides_the_match(default_api):
    api = default_api
    existing = factories.registered(api.origin, email="old@example.com", unique_id="crm-42")

    response = api.client.post(
        URL,
        json={
            "identifier_type": "unique_id",
            "unique_id": "crm-42",
            "email": "new@example.com",
            "request_title": "Callback",
        },
        headers=_token(api),
    )

    assert response.status_code == 201
    assert response.json["uid"] == existing.id
    db.session.refresh(existing)
    assert (existing.email, existing.counter) == ("old@example.com", 2)
    assert response.json["warnings"][0]["field"] == "email"


def test_identifier_type_email_makes_a_new_lead_for_a_new_email(default_api):
    api = default_api
    existing = factories.registered(api.origin, email="old@example.com", unique_id="crm-42")

    response = api.client.post(
        URL,
        json={
            "identifier_type": "email",
            "unique_id": "crm-42",
            "email": "new@example.com",
            "first_name": "New",
            "request_title": "Callback",
        },
        headers=_token(api),
    )

    assert response.status_code == 201
    assert response.json["uid"] != existing.id
    assert db.session.get(Lead, response.json["uid"]).unique_id is None  # crm-42 is taken


def test_first_name_is_required_for_a_new_lead_only(default_api):
    api = default_api
    body = {"identifier_type": "email", "email": "jane@example.com", "request_title": "Hi"}

    refused = api.client.post(URL, json=body, headers=_token(api))
    factories.registered(api.origin, email="jane@example.com")
    accepted = api.client.post(URL, json=body, headers=_token(api))

    assert refused.status_code == 422
    assert refused.json["status"] == "Error" and refused.json["error"] == "Validation failed"
    assert [e["field"] for e in refused.json["errors"]] == ["first_name"]
    assert accepted.status_code == 201


def test_invalid_requests_are_422_in_vcitas_error_shape(default_api):
    api = default_api
    base = {"identifier_type": "email", "email": "j@example.com", "first_name": "J"}
    cases = {
        "identifier_type": {k: v for k, v in base.items() if k != "identifier_type"}
        | {"request_title": "x"},
        "request_title": base,
        "notifications": base | {"request_title": "x", "notifications": "auto-reply,fax"},
        "email": base | {"request_title": "x", "email": "not-an-email"},
    }
    for field, body in cases.items():
        response = api.client.post(URL, json=body, headers=_token(api))
        assert response.status_code == 422, (field, response.json)
        assert set(response.json) == {"status", "error", "errors"}
        assert field in [error["field"] for error in response.json["errors"]]
    phone_type = api.client.post(
        URL, json=base | {"request_title": "x", "identifier_type": "phone"}, headers=_token(api)
    )
    assert phone_type.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_a_missing_or_wrong_key_is_401(default_api):
    api = default_api
    for headers in ({}, {"Authorization": 'Token token="nope"'}, {"Authorization": "Basic eDp5"}):
        response = api.client.post(URL, json=EVERY_FIELD, headers=headers)
        assert response.status_code == 401
        assert response.json["status"] == "Error" and response.json["error"]


def test_bearer_and_business_id_by_workspace_id_work_too(default_api):
    api = default_api

    response = api.client.post(
        URL, json={**EVERY_FIELD, "business_id": api.workspace.id}, headers=api.auth
    )

    assert response.status_code == 201


def test_another_business_is_404(default_api):
    api = default_api
    other = factories.workspace()

    by_header = api.client.post(
        URL, json=EVERY_FIELD, headers={**_token(api), "X-On-Behalf-Of": other.slug}
    )
    by_body = api.client.post(
        URL, json={**EVERY_FIELD, "business_id": other.id}, headers=_token(api)
    )

    assert (by_header.status_code, by_body.status_code) == (404, 404)
    assert by_header.json == {"status": "Error", "error": "Business not found", "errors": []}
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_without_a_default_api_origin_it_is_404_saying_where_to_choose_one(api):
    response = api.client.post(URL, json=EVERY_FIELD, headers=_token(api))

    assert response.status_code == 404
    assert "/p/settings/workspace" in response.json["error"]


def test_a_form_encoded_call_through_a_real_server(default_api, live_server):
    api = default_api
    form = {k: v for k, v in EVERY_FIELD.items() if not isinstance(v, dict | bool)}

    response = requests.post(
        f"{live_server}{URL}",
        data=form,
        headers={**_token(api), "X-On-Behalf-Of": api.workspace.slug},
        timeout=30,
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "OK"
    lead = db.session.get(Lead, body["uid"])
    assert (lead.email, lead.tags) == ("jane@example.com", ["kitchen", "spring"])
    assert db.session.get(Event, body["conversation_uid"]).payload["title"] == "Quote request"


def test_vcita_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json

    operation = doc["paths"]["/platform/v1/leadgen"]["post"]
    assert operation["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VcitaCreated"
    }
    assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/VcitaError"
    }
    assert {"vcitaToken": []} in operation["security"]


def test_a_wrong_method_on_leadgen_answers_json_not_a_page(client):
    response = client.get("/platform/v1/leadgen")

    assert response.status_code == 405
    assert response.is_json and response.get_json()["success"] is False


@pytest.mark.parametrize(
    ("sent", "status", "custom"),
    [
        ("Qualified", "qualified", None),  # a workspace status, by its name
        ("CUSTOMER", "customer", None),  # or by its key, whatever the case
        ("VIP client", "new", "VIP client"),  # unknown: kept, not refused
    ],
)
def test_a_client_status_is_the_workspaces_or_kept_as_a_custom_field(
    default_api, sent, status, custom
):
    api = default_api
    response = api.client.post(
        URL,
        json={
            **EVERY_FIELD,
            "email": "kim@example.com",
            "unique_id": "kim-1",
            "phone": None,
            "status": sent,
        },
        headers={**_token(api), "X-On-Behalf-Of": api.workspace.slug},
    )

    assert response.status_code == 201, response.json
    lead = db.session.get(Lead, response.json["uid"])
    assert (lead.status, lead.custom_fields.get("vcita_status")) == (status, custom)
