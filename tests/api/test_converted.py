"""Converted leads: a completed journey counts as a conversion in its funnel (a cancelled one
does not); the API filters and shows it, and `journey.completed` says `converted: true` on
every path that completes a journey."""

from __future__ import annotations

from standardwebhooks.webhooks import Webhook

from leadsite.extensions import db
from leadsite.journeys.engine import complete_step
from leadsite.models import (
    ActivityKind,
    Event,
    Funnel,
    Journey,
    JourneyStatus,
    JourneyStep,
    Lead,
    OriginKind,
    Role,
    Workspace,
)
from leadsite.outbox import event_types, worker
from leadsite.public.tokens import journey_action_token
from tests import factories
from tests.conftest import csrf_token
from tests.servers import webhook_receiver


def _staff_task_funnel(ws: Workspace, name: str) -> Funnel:
    funnel = factories.funnel(ws, name=name)
    factories.activity(factories.stage(funnel, "Qualify"), ActivityKind.STAFF_TASK, "Call them")
    return funnel


def _lead_in(funnel: Funnel, email: str) -> tuple[Lead, JourneyStep]:
    lead = factories.registered(factories.origin(funnel, OriginKind.API), email=email)
    step = db.session.scalar(
        db.select(JourneyStep).join(Journey).filter(Journey.lead_id == lead.id)
    )
    return lead, step


def _converted_world(api) -> dict[str, Lead]:
    """Ada completed Sales; Bob is still in it; Cy's Sales journey was cancelled; Dee completed
    Support only."""
    sales = _staff_task_funnel(api.workspace, "Sales")
    support = _staff_task_funnel(api.workspace, "Support")
    ada, ada_step = _lead_in(sales, "ada@example.com")
    bob, _ = _lead_in(sales, "bob@example.com")
    cy, cy_step = _lead_in(sales, "cy@example.com")
    dee, dee_step = _lead_in(support, "dee@example.com")
    complete_step(ada_step)
    complete_step(dee_step)
    db.session.get(Journey, cy_step.journey_id).status = JourneyStatus.CANCELLED
    db.session.commit()
    return {"ada": ada, "bob": bob, "cy": cy, "dee": dee, "sales": sales, "support": support}


def _emails(response) -> set[str]:
    assert response.status_code == 200, response.get_json()
    return {lead["email"] for lead in response.get_json()["data"]}


def test_the_lead_list_filters_converted_leads_per_funnel(api):
    world = _converted_world(api)
    sales = world["sales"].id

    assert _emails(api.get("/api/v1/leads?converted=true")) == {
        "ada@example.com",
        "dee@example.com",
    }
    assert _emails(api.get(f"/api/v1/leads?converted=true&funnel_id={sales}")) == {
        "ada@example.com"
    }
    assert _emails(api.get(f"/api/v1/leads?converted=false&funnel={sales}")) == {
        "bob@example.com",
        "cy@example.com",  # cancelled is not converted
    }
    assert _emails(api.get("/api/v1/leads?converted=false")) == {
        "bob@example.com",
        "cy@example.com",
    }


def test_a_converted_filter_that_is_not_a_boolean_is_refused(api):
    response = api.get("/api/v1/leads?converted=maybe")

    body = response.get_json()
    assert response.status_code == 422
    assert body["code"] == "VALIDATION_ERROR"
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("converted", "Must be true or false")
    ]


def test_leads_name_the_funnels_they_converted_in_and_journeys_when(api):
    world = _converted_world(api)

    listed = {
        lead["email"]: lead["converted_funnels"]
        for lead in api.get("/api/v1/leads").get_json()["data"]
    }
    ada = api.get(f"/api/v1/leads/{world['ada'].id}").get_json()["data"]
    cy = api.get(f"/api/v1/leads/{world['cy'].id}").get_json()["data"]

    assert listed == {
        "ada@example.com": [world["sales"].id],
        "bob@example.com": [],
        "cy@example.com": [],
        "dee@example.com": [world["support"].id],
    }
    assert ada["converted_funnels"] == [world["sales"].id]
    [journey] = ada["journeys"]
    assert journey["converted"] is True and journey["completed_at"].endswith("Z")
    assert cy["converted_funnels"] == []
    assert cy["journeys"][0]["converted"] is False and cy["journeys"][0]["completed_at"] is None


def test_the_openapi_document_describes_the_converted_fields(api):
    document = api.client.get("/api/v1/openapi.json").get_json()

    parameters = {p["name"] for p in document["paths"]["/api/v1/leads"]["get"]["parameters"]}
    schemas = document["components"]["schemas"]
    assert {"converted", "funnel_id"} <= parameters
    assert "converted_funnels" in schemas["LeadRead"]["required"]
    assert {"converted", "completed_at"} <= set(schemas["JourneySummaryOut"]["properties"])


def _journey_completed(journey_id: str) -> Event:
    return db.session.scalar(
        db.select(Event).filter_by(journey_id=journey_id, type=event_types.JOURNEY_COMPLETED)
    )


def test_journey_completed_reaches_the_receiver_when_staff_finish_the_last_task(client, auth):
    ws = factories.workspace()
    person = factories.user(ws, role=Role.MANAGER)
    auth.login(person.email)
    with webhook_receiver() as receiver:
        endpoint = factories.webhook_endpoint(
            ws, receiver.url, events=[event_types.JOURNEY_COMPLETED]
        )
        lead, step = _lead_in(_staff_task_funnel(ws, "Sales"), "ada@example.com")
        token = csrf_token(client, "/p/tasks")
        done = client.post(
            f"/p/tasks/{step.id}/done", data={"csrf_token": token}, headers={"HX-Request": "true"}
        )

        assert done.status_code == 200
        assert worker.run_once() >= 1
        [received] = receiver.wait_for(1)

    payload = Webhook(endpoint.secret).verify(received.body, received.headers)
    assert payload["type"] == "journey.completed"
    data = payload["data"]
    assert (data["id"], data["lead_id"]) == (step.journey_id, lead.id)
    assert data["converted"] is True and data["status"] == "completed"
    assert data["completed_at"]


def test_journey_completed_says_converted_when_the_lead_finishes(client):
    ws = factories.workspace()
    funnel = factories.funnel(ws, name="Self-serve")
    factories.activity(factories.stage(funnel, "Profile"), ActivityKind.LEAD_TASK, "Say hello")
    lead, step = _lead_in(funnel, "ada@example.com")
    journey = db.session.get(Journey, step.journey_id)

    response = client.post(
        f"/j/{journey.access_token}/steps/{step.id}",
        data={"_token": journey_action_token(journey.id)},
    )

    assert response.status_code in (200, 303)
    event = _journey_completed(journey.id)
    assert event.payload["converted"] is True and event.payload["lead_id"] == lead.id


def test_journey_completed_says_converted_when_the_worker_runs_the_last_step():
    ws = factories.workspace()
    funnel = factories.funnel(ws, name="Tagging")
    factories.activity(factories.stage(funnel, "Tag"), ActivityKind.ADD_TAG, "Tag", tag="vip")
    _, step = _lead_in(funnel, "ada@example.com")
    assert _journey_completed(step.journey_id) is None

    assert worker.run_once() >= 1

    db.session.expire_all()
    event = _journey_completed(step.journey_id)
    assert event.payload["converted"] is True
    assert db.session.get(Journey, step.journey_id).status == JourneyStatus.COMPLETED
