"""Leads, journeys, funnels, data points and webhooks through the API, scoped by workspace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import DataPoint, Event, Lead, OutboxMessage, WebhookEndpoint
from tests import factories


def test_list_leads_pages_with_a_cursor_newest_first(api):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(5):
        factories.lead(
            api.workspace, email=f"p{index}@example.com", created_at=start + timedelta(days=index)
        )

    first = api.get("/api/v1/leads?limit=2")
    second = api.get(f"/api/v1/leads?limit=2&cursor={first.json['next_cursor']}")
    third = api.get(f"/api/v1/leads?limit=2&cursor={second.json['next_cursor']}")

    emails = [lead["email"] for page in (first, second, third) for lead in page.json["data"]]
    assert emails == [f"p{i}@example.com" for i in (4, 3, 2, 1, 0)]
    assert (first.json["has_more"], third.json["has_more"]) == (True, False)
    assert third.json["next_cursor"] is None


def test_list_leads_filters(api):
    other_funnel = factories.funnel(api.workspace, name="Other")
    api.register(
        {"email": "in@example.com", "status": "qualified", "tags": ["vip"], "first_name": "Zoe"}
    )
    factories.lead(api.workspace, email="out@example.com", status="lost")
    factories.lead(factories.workspace(), email="in-other-ws@example.com", status="qualified")

    def emails(query: str) -> list[str]:
        response = api.get(f"/api/v1/leads?{query}")
        assert response.status_code == 200, response.json
        return [lead["email"] for lead in response.json["data"]]

    assert emails("status=qualified") == ["in@example.com"]
    assert emails("tag=vip") == ["in@example.com"]
    assert emails(f"funnel={api.funnel.id}") == ["in@example.com"]
    assert emails(f"funnel={other_funnel.id}") == []
    assert emails(f"origin={api.origin.id}") == ["in@example.com"]
    assert emails("q=zo") == ["in@example.com"]
    assert emails("q=OUT") == ["out@example.com"]
    assert emails("created_after=2000-01-01") == ["out@example.com", "in@example.com"]
    assert emails("created_before=2000-01-01") == []


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "cursor=xyz", "created_after=soon"])
def test_list_leads_refuses_bad_parameters_with_422(api, query):
    response = api.get(f"/api/v1/leads?{query}")

    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"


def test_read_a_lead_with_its_journeys(api):
    created = api.register({"email": "r@example.com"}).json["data"]

    response = api.get(f"/api/v1/leads/{created['id']}")

    assert response.status_code == 200
    assert response.json["data"]["email"] == "r@example.com"
    assert [j["id"] for j in response.json["data"]["journeys"]] == [created["journey"]["id"]]


def test_patch_changes_fields_and_refuses_a_taken_email(api):
    lead = factories.lead(api.workspace, email="a@example.com")
    factories.lead(api.workspace, email="taken@example.com")

    ok = api.client.patch(
        f"/api/v1/leads/{lead.id}",
        headers=api.auth,
        json={
            "FirstName": "Ana",
            "status": "qualified",
            "tags": ["x"],
            "phone": "020 7946 0000",
            "country_code": "GB",
        },
    )
    taken = api.client.patch(
        f"/api/v1/leads/{lead.id}", headers=api.auth, json={"email": "Taken@example.com"}
    )
    unknown = api.client.patch(f"/api/v1/leads/{lead.id}", headers=api.auth, json={"shoe_size": 42})

    assert ok.status_code == 200
    assert (ok.json["data"]["first_name"], ok.json["data"]["phone"]) == ("Ana", "+442079460000")
    assert taken.status_code == 409 and taken.json["code"] == "DUPLICATE_EMAIL"
    assert unknown.status_code == 422
    assert db.session.get(Lead, lead.id).email == "a@example.com"


def test_delete_erases_personal_data_and_keeps_an_anonymous_row(api):
    created = api.register(
        {
            "email": "gone@example.com",
            "first_name": "Gone",
            "WebhookInput": {"Url": "https://hooks.example.com/x"},
        }
    ).json["data"]

    response = api.client.delete(f"/api/v1/leads/{created['id']}", headers=api.auth)

    assert response.status_code == 200
    lead = db.session.get(Lead, created["id"])
    assert (lead.email, lead.first_name, lead.status) == (None, None, "erased")
    assert lead.erased_at is not None and lead.journeys
    payloads = [e.payload for e in db.session.scalars(db.select(Event).filter_by(lead_id=lead.id))]
    assert "gone@example.com" not in str(payloads)
    assert db.session.scalar(db.select(WebhookEndpoint).filter_by(lead_id=lead.id)) is None
    assert db.session.scalar(db.select(OutboxMessage).filter_by(lead_id=lead.id)) is None


def test_an_erased_lead_is_not_edited_nor_erased_again(api):
    created = api.register({"email": "gone@example.com", "first_name": "Gone"}).json["data"]
    path = f"/api/v1/leads/{created['id']}"
    api.client.delete(path, headers=api.auth)

    edited = api.client.patch(path, json={"first_name": "Back"}, headers=api.auth)
    again = api.client.delete(path, headers=api.auth)

    assert edited.status_code == 409 and edited.json["code"] == "LEAD_ERASED"
    assert again.status_code == 200
    lead = db.session.get(Lead, created["id"])
    assert (lead.first_name, lead.status) == (None, "erased")
    erased = db.select(db.func.count()).select_from(Event).filter_by(type="lead.erased")
    assert db.session.scalar(erased) == 1


def test_read_a_journey_with_steps_and_data(api):
    created = api.register({"email": "j@example.com", "JourneyData": {"company": "Acme"}}).json[
        "data"
    ]

    response = api.get(f"/api/v1/journeys/{created['journey']['id']}")

    data = response.json["data"]
    assert response.status_code == 200
    assert data["data"] == {"company": "Acme"}
    assert [s["status"] for s in data["steps"]] == ["due", "due", "pending"]


def test_funnels_list_their_origins_and_refs(api):
    response = api.get("/api/v1/funnels")
    detail = api.get(f"/api/v1/funnels/{api.funnel.id}")

    assert [f["id"] for f in response.json["data"]] == [api.funnel.id]
    assert response.json["data"][0]["origins"][0]["ref"] == api.origin.ref
    assert [s["name"] for s in detail.json["data"]["stages"]] == ["Welcome", "Follow-up"]


def test_data_points_crud(api):
    created = api.client.post(
        "/api/v1/data-points",
        headers=api.auth,
        json={"name": "budget", "type": "number", "label": "Budget"},
    )
    again = api.client.post("/api/v1/data-points", headers=api.auth, json={"name": "budget"})
    choice = api.client.post(
        "/api/v1/data-points", headers=api.auth, json={"name": "size", "type": "choice"}
    )
    point_id = created.json["data"]["id"]
    patched = api.client.patch(
        f"/api/v1/data-points/{point_id}", headers=api.auth, json={"label": "Yearly budget"}
    )
    deleted = api.client.delete(f"/api/v1/data-points/{point_id}", headers=api.auth)

    assert created.status_code == 201 and created.json["data"]["id"].startswith("dp_")
    assert again.status_code == 409
    assert choice.status_code == 422
    assert patched.json["data"]["label"] == "Yearly budget"
    assert deleted.status_code == 200
    assert db.session.get(DataPoint, point_id) is None


def test_a_data_point_name_is_unique_ignoring_case_as_registration_matches_it(api):
    response = api.client.post("/api/v1/data-points", headers=api.auth, json={"name": "Company"})

    assert response.status_code == 409
    assert response.json["code"] == "DUPLICATE_NAME"
    assert response.json["details"]["field"] == "name"
    assert db.session.scalar(db.select(db.func.count()).select_from(DataPoint)) == 3


def test_a_data_point_in_use_cannot_be_deleted(api):
    api.register({"email": "u@example.com", "JourneyData": {"company": "Acme"}})
    point = db.session.scalar(db.select(DataPoint).filter_by(name="company"))

    response = api.client.delete(f"/api/v1/data-points/{point.id}", headers=api.auth)

    assert response.status_code == 409
    assert response.json["code"] == "DATA_POINT_IN_USE"
    assert "1 journey" in response.json["error"]


def test_webhooks_crud_shows_the_secret_once(app, api):
    created = api.client.post(
        "/api/v1/webhooks",
        headers=api.auth,
        json={"url": "https://hooks.example.com/in", "events": ["lead.created"]},
    )
    endpoint_id = created.json["data"]["id"]
    read = api.get(f"/api/v1/webhooks/{endpoint_id}")
    patched = api.client.patch(
        f"/api/v1/webhooks/{endpoint_id}", headers=api.auth, json={"active": False}
    )
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        private = api.client.post(
            "/api/v1/webhooks", headers=api.auth, json={"url": "http://localhost:8080/in"}
        )
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True

    assert created.status_code == 201
    assert created.json["data"]["secret"].startswith("whsec_")
    assert "secret" not in read.json["data"]
    assert patched.json["data"]["active"] is False
    assert private.status_code == 422
    assert api.client.delete(f"/api/v1/webhooks/{endpoint_id}", headers=api.auth).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/leads/{lead}"),
        ("patch", "/api/v1/leads/{lead}"),
        ("delete", "/api/v1/leads/{lead}"),
        ("get", "/api/v1/journeys/{journey}"),
        ("get", "/api/v1/funnels/{funnel}"),
        ("get", "/api/v1/data-points/{point}"),
        ("delete", "/api/v1/data-points/{point}"),
        ("get", "/api/v1/webhooks/{webhook}"),
    ],
)
def test_another_workspaces_ids_are_404(api, client, method, path):
    other = factories.workspace("Other")
    other_api_key = factories.api_key(other)
    other_funnel = factories.staged_funnel(other)
    other_origin = factories.origin(other_funnel)
    made = client.post(
        f"/api/v1/leads?ref={other_origin.ref}",
        headers={"Authorization": f"Bearer {other_api_key}"},
        json={"email": "theirs@example.com"},
    ).json["data"]
    point = factories.data_point(other, "secret_point")
    hook = WebhookEndpoint(workspace_id=other.id, url="https://x.example.com", events=[])
    db.session.add(hook)
    db.session.commit()
    ids = {
        "lead": made["id"],
        "journey": made["journey"]["id"],
        "funnel": other_funnel.id,
        "point": point.id,
        "webhook": hook.id,
    }

    response = getattr(api.client, method)(path.format(**ids), headers=api.auth, json={})

    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"
    assert db.session.get(Lead, made["id"]).email == "theirs@example.com"
