"""The chatbot platform's lead API (seed 002): its examples sent as printed, its answers and
errors in its shapes."""

from __future__ import annotations

import re

import requests

from leadsite.extensions import db
from leadsite.models import Lead, OnDuplicate
from tests import factories
from tests.bodies import CHATBOT_EXAMPLE, CHATBOT_PAYLOAD

MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DATA_KEYS = {
    "id",
    "name",
    "email",
    "phone",
    "source",
    "status",
    "metadata",
    "createdAt",
    "updatedAt",
    "workspaceId",
}


def _chatbot_url(api) -> str:
    return f"/api/v1/chatbots/{api.origin.ref}/leads"


def test_the_documented_payload_creates_a_lead_answered_in_the_documented_shape(api):
    response = api.client.post(_chatbot_url(api), json=CHATBOT_PAYLOAD, headers=api.auth)

    assert response.status_code == 201
    body = response.json
    assert set(body) == {"success", "data"} and body["success"] is True
    data = body["data"]
    assert set(data) == DATA_KEYS
    assert data["id"].startswith("lead_")
    assert (data["name"], data["email"]) == ("John Doe", "john.doe@example.com")
    assert data["phone"] == "+15551234567"
    assert (data["source"], data["status"]) == ("website", "new")
    assert data["metadata"] == CHATBOT_PAYLOAD["metadata"]
    assert MILLIS.match(data["createdAt"]) and MILLIS.match(data["updatedAt"])
    assert data["workspaceId"] == api.workspace.id
    lead = db.session.get(Lead, data["id"])
    assert (lead.first_name, lead.last_name, lead.origin_id) == ("John", "Doe", api.origin.id)
    assert (lead.utm_source, lead.utm_campaign) == ("google", "spring_2024")
    assert lead.custom_fields == {
        "interests": ["product_a", "product_b"],
        "company": "Tech Corp",
        "job_title": "Marketing Manager",
    }
    assert lead.journeys[0].funnel_id == api.funnel.id


def test_the_curl_example_as_printed(api):
    """curl -X POST https://your-domain.com/api/v1/chatbots/cb_1234567890abcdef/leads
    -H "Authorization: Bearer sk-workspace_your_api_key" -H "Content-Type: application/json"
    -d '{...}'"""
    raw = """{
"name": "John Doe",
"email": "john.doe@example.com",
"phone": "+1-555-123-4567",
"source": "website",
"status": "new",
"metadata": {
"utm_source": "google",
"company": "Tech Corp"
}
}"""
    response = api.client.post(
        _chatbot_url(api),
        data=raw,
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
    )

    assert response.status_code == 201
    assert response.json["data"]["metadata"] == {"utm_source": "google", "company": "Tech Corp"}


def test_the_javascript_example_posts_to_leads_without_a_ref(default_api):
    """fetch('https://your-domain.com/api/v1/leads', {method: 'POST', headers: {...},
    body: JSON.stringify(leadData)}); it reads `result.data`."""
    response = default_api.client.post(
        "/api/v1/leads",
        json=CHATBOT_EXAMPLE,
        headers={"Authorization": f"Bearer {default_api.key}", "Content-Type": "application/json"},
    )

    assert 200 <= response.status_code < 300  # `response.ok`
    data = response.json["data"]
    assert set(data) == DATA_KEYS
    assert db.session.get(Lead, data["id"]).origin_id == default_api.origin.id


def test_the_python_example_runs_as_printed_against_a_real_server(default_api, live_server):
    printed: list[str] = []

    # The document's example, with only the URL changed.
    def create_lead(api_key, lead_data):
        url = f"{live_server}/api/v1/leads"
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        try:
            response = requests.post(url, headers=headers, json=lead_data, timeout=30)
            response.raise_for_status()  # Raises an HTTPError for bad responses
            result = response.json()
            printed.append(f"Lead created: {result['data']['id']}")
            return result["data"]
        except requests.exceptions.RequestException as e:
            printed.append(f"Error creating lead: {e}")
            raise

    api_key = default_api.key
    new_lead = {
        "name": "John Doe",
        "email": "john.doe@example.com",
        "phone": "+1-555-123-4567",
        "source": "website",
        "status": "new",
        "metadata": {"utm_source": "google", "company": "Tech Corp"},
    }
    data = create_lead(api_key, new_lead)

    assert printed == [f"Lead created: {data['id']}"]
    lead = db.session.get(Lead, data["id"])
    assert (lead.email, lead.phone, lead.custom_fields) == (
        "john.doe@example.com",
        "+15551234567",
        {"company": "Tech Corp"},
    )


def test_the_same_person_again_updates_the_lead_with_200(api):
    first = api.client.post(_chatbot_url(api), json=CHATBOT_EXAMPLE, headers=api.auth)

    again = api.client.post(
        _chatbot_url(api), json={**CHATBOT_EXAMPLE, "status": "qualified"}, headers=api.auth
    )

    assert again.status_code == 200
    assert again.json["data"]["id"] == first.json["data"]["id"]
    assert again.json["data"]["status"] == "qualified"


def test_an_invalid_email_is_the_documented_validation_error(api):
    response = api.client.post(
        _chatbot_url(api), json={**CHATBOT_EXAMPLE, "email": "invalid-email"}, headers=api.auth
    )

    assert response.status_code == 422
    body = response.json
    assert (body["success"], body["error"], body["code"]) == (
        False,
        "Validation failed",
        "VALIDATION_ERROR",
    )
    assert body["details"]["field"] == "email"
    assert body["details"]["value"] == "invalid-email"
    assert body["details"]["message"]
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_a_duplicate_email_is_the_documented_409_when_the_funnel_rejects_duplicates(api):
    api.funnel.on_duplicate = OnDuplicate.REJECT
    db.session.commit()
    existing = factories.registered(api.origin, email="john.doe@example.com")

    response = api.client.post(_chatbot_url(api), json=CHATBOT_EXAMPLE, headers=api.auth)

    assert response.status_code == 409
    body = response.json
    assert (body["success"], body["error"], body["code"]) == (
        False,
        "Email already exists",
        "DUPLICATE_EMAIL",
    )
    assert body["details"] == {
        "email": "john.doe@example.com",
        "existingLeadId": existing.id,
        "message": "A lead with this email already exists in your workspace",
    }


def test_a_chatbot_id_that_is_no_api_origin_of_the_workspace_is_404(api):
    foreign = factories.origin(factories.funnel(factories.workspace()))

    for chatbot_id in ("cb_1234567890abcdef", foreign.ref):
        response = api.client.post(
            f"/api/v1/chatbots/{chatbot_id}/leads", json=CHATBOT_EXAMPLE, headers=api.auth
        )
        assert response.status_code == 404
        assert response.json["code"] == "NOT_FOUND"
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_without_an_api_key_it_is_401(api):
    response = api.client.post(_chatbot_url(api), json=CHATBOT_EXAMPLE)

    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"


def test_the_chatbot_paths_are_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json

    operation = doc["paths"]["/api/v1/chatbots/{chatbot_id}/leads"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatbotLeadBody"
    }
    assert operation["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatbotLeadResponse"
    }
    assert "ChatbotLead" in doc["components"]["schemas"]


def test_a_browser_on_an_allowed_site_may_call_the_chatbot_path(api):
    preflight = api.client.options(
        _chatbot_url(api),
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    refused = api.client.options(
        _chatbot_url(api),
        headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
    )

    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Access-Control-Allow-Origin" not in refused.headers
