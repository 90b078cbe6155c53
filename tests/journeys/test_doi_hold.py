"""Double opt-in holds the journey: nothing of its first stage happens until the lead confirms;
unconfirmed past the funnel's window, the worker's housekeeping cancels it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    Channel,
    Event,
    Journey,
    JourneyStatus,
    OriginKind,
    OutboxMessage,
    StepStatus,
    utcnow,
)
from leadsite.outbox import housekeeping, worker
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.backoffice.test_funnel_edit import SETTINGS, _post, _sign_in
from tests.journeys.helpers import event_types, steps
from tests.servers import smtp_server

CONFIRM_LINK = re.compile(r"http://localhost(/confirm/[\w.-]+)")


def doi_world(hours: int = 72):
    """An active double opt-in funnel whose first stage emails the lead and asks a task of
    them, and its hosted-page origin."""
    ws = factories.workspace("Acme")
    funnel = factories.funnel(ws, double_opt_in=True, confirm_within_hours=hours)
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(
        welcome,
        ActivityKind.EMAIL_LEAD,
        "Welcome email",
        subject="You're in, {{ lead.first_name }}!",
    )
    factories.activity(welcome, ActivityKind.LEAD_TASK, "Tell us about you")
    return ws, funnel, factories.origin(funnel, OriginKind.PAGE)


def sign_up(origin, **fields: str) -> Journey:
    fields.setdefault("email", "ada@example.com")
    registration = register(origin, LeadInput(first_name="Ada", **fields), RegistrationContext())
    db.session.commit()
    return registration.journey


def emails() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            db.select(OutboxMessage)
            .filter_by(channel=Channel.EMAIL)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )


def deliver(app) -> list:
    """Run the worker (steps, then their emails) against a real SMTP server; the emails it got."""
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            worker.run_once()
            worker.run_once()
        finally:
            app.config["MAIL_URL"] = None
        return list(mailbox.messages)


def fresh(journey: Journey) -> Journey:
    db.session.expire_all()
    return db.session.get(Journey, journey.id)


def test_the_journey_waits_unstarted_until_the_post_confirm_then_starts(app, client):
    _, _, origin = doi_world()
    journey = sign_up(origin)

    assert journey.status == JourneyStatus.AWAITING
    assert journey.current_stage_id is None
    assert {step.status for step in steps(journey).values()} == {StepStatus.PENDING}
    received = deliver(app)
    assert [m["Subject"] for m in received] == ["Confirm your registration: Onboarding"]
    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)
    assert "Confirm your email to start" in page
    assert f'action="/j/{journey.access_token}/confirm-resend"' in page
    assert "Mark done" not in page  # nothing of the first stage is open to the lead

    [link] = CONFIRM_LINK.findall(emails()[0].payload["text"])
    assert client.post(link).status_code == 200

    journey = fresh(journey)
    assert journey.status == JourneyStatus.ACTIVE
    assert journey.current_stage.name == "Welcome"
    assert steps(journey)["Tell us about you"].status == StepStatus.DUE
    started = db.session.scalar(db.select(Event).filter_by(type="journey.started"))
    assert started.payload["explanation"] == "the lead confirmed their email"
    assert event_types(journey)[-3:] == [
        "lead.confirmed",
        "journey.started",
        "journey.stage_entered",
    ]
    assert [m["Subject"] for m in deliver(app)] == ["You're in, Ada!"]
    assert steps(journey)["Welcome email"].status == StepStatus.DONE
    assert "Mark done" in client.get(f"/j/{journey.access_token}").get_data(as_text=True)


def test_registering_again_while_awaiting_keeps_the_one_journey_awaiting():
    _, _, origin = doi_world()
    first = sign_up(origin)
    second = sign_up(origin, last_name="Lovelace")

    assert second.id == first.id
    assert db.session.scalar(db.select(db.func.count(Journey.id))) == 1
    assert fresh(first).status == JourneyStatus.AWAITING
    assert all("Confirm" in message.payload["subject"] for message in emails())


def test_a_lead_who_confirmed_before_starts_at_once():
    ws, _, origin = doi_world()
    lead = factories.lead(ws, email="ada@example.com", confirmed_at=utcnow())
    other = factories.origin(factories.funnel(ws, "Other", double_opt_in=True))

    journey = sign_up(origin)
    assert journey.lead_id == lead.id
    assert journey.status == JourneyStatus.ACTIVE
    assert sign_up(other).status == JourneyStatus.COMPLETED  # no stages: started, and done


def test_the_journey_page_resends_the_confirmation(client):
    _, _, origin = doi_world()
    journey = sign_up(origin)

    response = client.post(f"/j/{journey.access_token}/confirm-resend")

    assert response.status_code == 200
    assert "We have sent a new confirmation link to a•••@example.com" in response.get_data(
        as_text=True
    )
    assert [m.payload["subject"] for m in emails()] == ["Confirm your registration: Onboarding"] * 2


@pytest.mark.parametrize("hours", [24])
def test_unconfirmed_past_the_window_the_housekeeping_cancels_it(client, hours):
    ws, _, origin = doi_world(hours)
    endpoint = factories.webhook_endpoint(ws, events=["journey.cancelled"])
    journey = sign_up(origin)
    created = journey.created_at

    housekeeping.run(now=created + timedelta(hours=hours) - timedelta(minutes=1))
    assert fresh(journey).status == JourneyStatus.AWAITING

    housekeeping.run(now=created + timedelta(hours=hours, minutes=1))

    journey = fresh(journey)
    assert journey.status == JourneyStatus.CANCELLED
    assert {step.status for step in steps(journey).values()} == {StepStatus.SKIPPED}
    cancelled = db.session.scalar(db.select(Event).filter_by(type="journey.cancelled"))
    assert cancelled.payload["reason"] == "the lead did not confirm their email within 24 hours"
    [hook] = db.session.scalars(db.select(OutboxMessage).filter_by(endpoint_id=endpoint.id))
    assert hook.payload["type"] == "journey.cancelled"
    assert hook.payload["data"]["id"] == journey.id


def test_a_late_confirmation_starts_the_cancelled_journey_after_all(client):
    _, _, origin = doi_world(24)
    journey = sign_up(origin)
    housekeeping.run(now=journey.created_at + timedelta(hours=25))
    assert fresh(journey).status == JourneyStatus.CANCELLED

    [link] = CONFIRM_LINK.findall(emails()[0].payload["text"])
    assert "Your registration is confirmed" in client.post(link).get_data(as_text=True)

    journey = fresh(journey)
    assert journey.status == JourneyStatus.ACTIVE
    assert journey.current_stage.name == "Welcome"
    assert steps(journey)["Tell us about you"].status == StepStatus.DUE
    started = db.session.scalar(db.select(Event).filter_by(type="journey.started"))
    assert started.payload["explanation"] == (
        "the lead confirmed their email, after the journey was cancelled for want of it"
    )


def test_staff_see_awaiting_confirmation_on_the_lead_page_and_list(client, auth):
    ws, _, origin = doi_world(hours=48)
    journey = sign_up(origin)
    _sign_in(auth, ws)

    page = client.get(f"/p/leads/{journey.lead_id}").get_data(as_text=True)
    listing = client.get("/p/leads").get_data(as_text=True)

    assert "awaiting confirmation" in page
    assert "the journey starts when the lead confirms their email" in page
    assert "awaiting confirmation" in listing


def test_the_api_shows_the_awaiting_status(client):
    ws, _, origin = doi_world()
    journey = sign_up(origin)
    headers = {"Authorization": f"Bearer {factories.api_key(ws)}"}

    one = client.get(f"/api/v1/journeys/{journey.id}", headers=headers)
    listed = client.get("/api/v1/journeys?status=awaiting", headers=headers)

    assert one.status_code == listed.status_code == 200
    assert one.json["data"]["status"] == "awaiting"
    assert [item["id"] for item in listed.json["data"]] == [journey.id]


@pytest.mark.parametrize(
    ("hours", "status", "message"),
    [
        ("0", 422, "Enter a whole number of hours from 1 to 720."),
        ("721", 422, "Enter a whole number of hours from 1 to 720."),
        ("48", 302, None),
    ],
)
def test_the_funnel_settings_set_the_hours_to_confirm(client, auth, hours, status, message):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(
        client, f"/p/funnels/edit/{funnel.id}", {**SETTINGS, "confirm_within_hours": hours}
    )

    assert response.status_code == status
    if message:
        assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert funnel.confirm_within_hours == (72 if message else 48)
