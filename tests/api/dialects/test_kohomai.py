"""Kohomai's older guides: POST /api/v1/journeys?ref= with the nested and the flat body,
front-office sessions, and the journey and workflow lists."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

from leadsite.extensions import db
from leadsite.models import (
    Channel,
    DataPoint,
    FunnelStatus,
    Journey,
    JourneySession,
    JourneyStatus,
    Lead,
    OutboxMessage,
    utcnow,
)
from tests import factories
from tests.bodies import KOHOMAI_BUBBLE, KOHOMAI_NESTED

ANSWER_KEYS = {
    "UUID",
    "RedirectURL",
    "ConnectionURL",
    "ValidUntil",
    "createdDate",
    "changedDate",
    "User",
}


def _post_journey(api, body, ref=None, **kwargs):
    return api.client.post(
        f"/api/v1/journeys?ref={ref or api.origin.ref}", json=body, headers=api.auth, **kwargs
    )


def _journey_data(journey_id: str) -> dict:
    journey = db.session.get(Journey, journey_id)
    return {item.data_point.name: item.value for item in journey.data}


def test_the_current_guides_fetch_example_registers_on_leads_with_a_ref(api):
    """fetch('https://app.kohomai.com/api/v1/leads?ref=YYY', {method: 'POST', headers: {Accept,
    Content-Type, Authorization: 'Bearer XXX'}, body: JSON.stringify({"Email": ...})})"""
    response = api.client.post(
        f"/api/v1/leads?ref={api.origin.ref}",
        data=json.dumps({"Email": "johndoe@gmail.com"}),
        headers={
            "Accept": "application/json",
            "Content-Type": "application/json",
            "Authorization": f"Bearer {api.key}",
        },
    )

    assert response.status_code == 201
    assert response.json["data"]["email"] == "johndoe@gmail.com"
    assert response.json["warnings"] == []


def test_the_older_guides_nested_body_registers_and_answers_with_the_journey(api):
    factories.data_point(api.workspace, "My datapoint")

    response = _post_journey(api, KOHOMAI_NESTED)

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == ANSWER_KEYS
    journey = db.session.get(Journey, body["UUID"])
    lead = db.session.get(Lead, journey.lead_id)
    assert (lead.email, lead.first_name, lead.last_name) == ("johndoe@gmail.com", "John", "Doe")
    assert body["User"] == {"Firstname": "John", "Lastname": "Doe", "Id": lead.id}
    assert body["RedirectURL"] == "https://www.myapp.com"
    assert body["ConnectionURL"] == f"http://localhost/j/{journey.access_token}"
    assert body["ValidUntil"].endswith("Z") and body["createdDate"] and body["changedDate"]
    assert _journey_data(journey.id) == {"My datapoint": "example"}
    assert api.client.get(body["ConnectionURL"]).status_code == 200  # the lead's page


def test_a_data_point_is_named_by_its_id_as_well_as_its_name(api):
    point = db.session.scalar(db.select(DataPoint).filter_by(name="company"))
    body = json.loads(json.dumps(KOHOMAI_NESTED))
    body["Journey"]["JourneyData"] = [{"StringValue": "Tech Corp", "DataPoint": {"Id": point.id}}]

    response = _post_journey(api, body)

    assert response.status_code == 201
    assert _journey_data(response.json["UUID"]) == {"company": "Tech Corp"}


def test_a_value_under_any_typed_key_is_stored_not_replaced_by_null(api):
    # Found from outside: {"IntValue": 5, "DataPoint": ...} answered 201 and stored null,
    # over the value the lead had. Kohomai types its values (StringValue, NumberValue, ...);
    # any key ending in "Value" is the value.
    body = json.loads(json.dumps(KOHOMAI_NESTED))
    body["Journey"]["JourneyData"] = [{"StringValue": "Tech Corp", "DataPoint": {"Id": "company"}}]
    first = _post_journey(api, body)
    body["Journey"]["JourneyData"] = [{"TextValue": "Acme", "DataPoint": {"Id": "company"}}]
    again = _post_journey(api, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert _journey_data(again.json["UUID"]) == {"company": "Acme"}


def test_the_no_code_guides_flat_body_registers_on_the_same_url(api):
    response = _post_journey(api, KOHOMAI_BUBBLE)

    assert response.status_code == 201
    lead = db.session.get(Lead, response.json["User"]["Id"])
    assert (lead.email, lead.phone) == ("johndoe@gmail.com", "+18005550175")
    assert response.json["UUID"] == lead.journeys[0].id


def test_registering_again_answers_200_with_the_same_journey(api):
    first = _post_journey(api, KOHOMAI_BUBBLE)

    again = _post_journey(api, {**KOHOMAI_BUBBLE, "Firstname": "Johnny"})

    assert again.status_code == 200
    assert again.json["UUID"] == first.json["UUID"]
    assert again.json["User"]["Firstname"] == "Johnny"


def test_the_bubble_call_works_through_a_real_server(api, live_server):
    request = urllib.request.Request(
        f"{live_server}/api/v1/journeys?ref={api.origin.ref}",
        data=json.dumps(KOHOMAI_BUBBLE).encode(),
        headers={"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        status, body = response.status, json.loads(response.read())

    assert status == 201
    assert body["ConnectionURL"].startswith(f"{live_server}/j/")
    with urllib.request.urlopen(body["ConnectionURL"], timeout=30) as page:
        assert page.status == 200
        assert "John" in page.read().decode()


def test_the_registration_errors_are_the_api_envelope(api):
    unknown = _post_journey(api, KOHOMAI_BUBBLE, ref="nosuchref")
    no_key = api.client.post(f"/api/v1/journeys?ref={api.origin.ref}", json=KOHOMAI_BUBBLE)
    bad = json.loads(json.dumps(KOHOMAI_NESTED))
    bad["Journey"]["User"]["ContactPrefs"]["Email"] = "not-an-email"
    bad["Journey"]["JourneyData"][0]["DataPoint"]["Id"] = "dp_nosuchpoint"
    invalid = _post_journey(api, bad)
    no_default = api.client.post("/api/v1/journeys", json=KOHOMAI_BUBBLE, headers=api.auth)

    assert (unknown.status_code, unknown.json["code"]) == (404, "NOT_FOUND")
    assert (no_key.status_code, no_key.json["code"]) == (401, "UNAUTHORIZED")
    assert (invalid.status_code, invalid.json["code"]) == (422, "VALIDATION_ERROR")
    assert {"email", "journey_data[0].name"} <= {e["field"] for e in invalid.json["errors"]}
    assert no_default.status_code == 404 and "/p/settings/workspace" in no_default.json["error"]
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_a_closed_funnel_is_423(api):
    api.funnel.status = FunnelStatus.ENDED
    db.session.commit()

    response = _post_journey(api, KOHOMAI_BUBBLE)

    assert (response.status_code, response.json["code"]) == (423, "FUNNEL_CLOSED")


# ---- Front-office sessions: POST /api/v1/sessions ----


def _session(api, journey_id: str, **extra):
    return api.client.post(
        "/api/v1/sessions", json={"Journey": {"Id": journey_id}, **extra}, headers=api.auth
    )


def test_a_session_link_signs_the_lead_in_once_then_offers_a_link_by_email(api):
    registered = _post_journey(api, KOHOMAI_BUBBLE).json

    response = _session(api, registered["UUID"], RedirectURL="https://www.myapp.com/done")

    assert response.status_code == 201
    body = response.json
    assert set(body) == ANSWER_KEYS
    assert body["UUID"] == registered["UUID"]
    assert body["RedirectURL"] == "https://www.myapp.com/done"
    assert body["ConnectionURL"].startswith("http://localhost/j/session/")
    journey = db.session.get(Journey, registered["UUID"])
    session = db.session.scalar(db.select(JourneySession).filter_by(journey_id=journey.id))
    assert session.expires_at - utcnow() <= timedelta(minutes=10)
    assert body["ConnectionURL"].rsplit("/", 1)[1] not in session.token_hash  # only its hash

    first = api.client.get(body["ConnectionURL"])
    assert first.status_code == 303
    assert first.headers["Location"] == f"/j/{journey.access_token}"
    assert api.client.get(first.headers["Location"]).status_code == 200

    second = api.client.get(body["ConnectionURL"])
    assert second.status_code == 410
    page = second.get_data(as_text=True)
    assert "already been used" in page and "Email me a new link" in page
    assert f"/j/{journey.access_token}" not in page

    emailed = api.client.post(body["ConnectionURL"] + "/email")
    assert emailed.status_code == 200
    email = db.session.scalar(
        db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target="johndoe@gmail.com")
    )
    db.session.refresh(journey)
    assert f"http://localhost/j/{journey.access_token}" in email.payload["text"]


def test_an_expired_session_link_does_not_sign_in(api):
    registered = _post_journey(api, KOHOMAI_BUBBLE).json
    link = _session(api, registered["UUID"]).json["ConnectionURL"]
    session = db.session.scalar(db.select(JourneySession))
    session.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert api.client.get(link).status_code == 410
    assert api.client.get("/j/session/not-a-token").status_code == 404


def test_a_session_on_a_journey_of_another_workspace_or_none_is_refused(api):
    other = factories.workspace()
    foreign = factories.journey(factories.lead(other), factories.funnel(other))

    assert _session(api, foreign.id).status_code == 404
    assert _session(api, "jrn_nosuchjourney").status_code == 404
    missing = api.client.post("/api/v1/sessions", json={"RedirectURL": "x"}, headers=api.auth)
    assert (missing.status_code, missing.json["code"]) == (422, "VALIDATION_ERROR")
    registered = _post_journey(api, KOHOMAI_BUBBLE).json
    bad_url = _session(api, registered["UUID"], RedirectURL="javascript:alert(1)")
    assert bad_url.status_code == 422
    assert db.session.scalar(db.select(db.func.count(JourneySession.id))) == 0


# ---- Lists: GET /api/v1/journeys, GET /api/v1/workflows ----


def test_journeys_are_listed_newest_first_with_filters_and_cursor_pages(api):
    other_funnel = factories.staged_funnel(api.workspace, name="Other")
    other_origin = factories.origin(other_funnel)
    ids = [_post_journey(api, {"Email": f"j{n}@example.com"}).json["UUID"] for n in range(3)]
    elsewhere = _post_journey(api, {"Email": "j0@example.com"}, ref=other_origin.ref).json
    done = db.session.get(Journey, ids[0])
    done.status = JourneyStatus.COMPLETED
    db.session.commit()
    factories.journey(factories.lead(factories.workspace()), api.funnel)  # not ours

    page = api.get("/api/v1/journeys?limit=2").json
    rest = api.get(f"/api/v1/journeys?limit=2&cursor={page['next_cursor']}").json
    by_funnel = api.get(f"/api/v1/journeys?funnel={api.funnel.id}").json["data"]
    lead_id = db.session.get(Journey, ids[0]).lead_id
    by_lead = api.get(f"/api/v1/journeys?lead={lead_id}").json["data"]
    completed = api.get("/api/v1/journeys?status=completed").json["data"]

    assert [j["id"] for j in page["data"] + rest["data"]] == [elsewhere["UUID"], *ids[::-1]]
    assert page["has_more"] is True and rest["has_more"] is False
    assert [j["id"] for j in by_funnel] == ids[::-1]
    assert {j["id"] for j in by_lead} == {ids[0], elsewhere["UUID"]}
    assert [j["id"] for j in completed] == [ids[0]]
    assert by_lead[0]["lead_id"] == lead_id
    assert api.get("/api/v1/journeys?cursor=nope").status_code == 422
    assert api.get("/api/v1/journeys?status=lost").status_code == 422


def test_workflows_are_the_funnels(api):
    funnels = api.get("/api/v1/funnels")
    workflows = api.get("/api/v1/workflows")

    assert workflows.status_code == 200
    assert workflows.json == funnels.json


def test_the_back_office_journey_url_opens_the_leads_page_at_the_journey(client, auth, api):
    journey_id = _post_journey(api, KOHOMAI_BUBBLE).json["UUID"]
    journey = db.session.get(Journey, journey_id)
    foreign = factories.journey(factories.lead(factories.workspace()), api.funnel)
    auth.login(factories.user(api.workspace).email)

    response = client.get(f"/p/journeys/{journey_id}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/leads/{journey.lead_id}#{journey_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'id="{journey_id}"' in page
    assert client.get(f"/p/journeys/{foreign.id}").status_code == 404


def test_the_kohomai_paths_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]

    assert {"post", "get"} <= set(paths["/api/v1/journeys"])
    assert "post" in paths["/api/v1/sessions"]
    assert "get" in paths["/api/v1/workflows"]
    schema = paths["/api/v1/journeys"]["post"]["responses"]["201"]["content"]["application/json"]
    assert schema["schema"] == {"$ref": "#/components/schemas/KohomaiJourneyAnswer"}
