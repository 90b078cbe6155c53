"""Held leads: a submission that looks like a bot's is kept, listed apart, and staff accept it
(it registers then: journey, emails, webhooks) or delete it."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import (
    Channel,
    Event,
    Journey,
    Lead,
    OriginKind,
    OutboxMessage,
    Role,
    Workspace,
)
from leadsite.outbox import event_types
from leadsite.public.tokens import form_token
from tests import factories
from tests.conftest import csrf_token
from tests.public.helpers import post_form


@pytest.fixture
def world():
    ws = factories.workspace()
    funnel = factories.staged_funnel(ws, double_opt_in=True)
    origin = factories.origin(funnel, OriginKind.PAGE, success_message="Welcome aboard!")
    endpoint = factories.webhook_endpoint(ws)
    return ws, funnel, origin, endpoint


def fast_post(client, origin, **fields: str):
    """A form sent at once after it was shown: what autofill (or a bot) does."""
    data = {"_token": form_token(origin.ref), "website": "", **fields}
    return client.post(f"/r/{origin.ref}", data=data)


def sign_in(client, auth, ws: Workspace) -> None:
    auth.login(factories.user(ws, role=Role.MANAGER).email)


def post(client, path: str):
    return client.post(path, data={"csrf_token": csrf_token(client, "/p/")})


def messages() -> list[OutboxMessage]:
    return list(db.session.scalars(db.select(OutboxMessage)))


def test_a_held_lead_is_listed_apart_and_accepting_it_registers_it(client, auth, world):
    ws, funnel, origin, _ = world
    response = fast_post(client, origin, email="ada@example.com", first_name="Ada")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    # Nothing was emailed, so the page does not say so.
    assert "Welcome aboard!" in body and "We have sent you an email" not in body
    lead = db.session.scalar(db.select(Lead))
    assert lead.held and messages() == []
    sign_in(client, auth, ws)

    registered_list = client.get("/p/leads").get_data(as_text=True)
    held_list = client.get("/p/leads?held=true").get_data(as_text=True)
    page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)
    accepted = post(client, f"/p/leads/{lead.id}/accept")

    assert "ada@example.com" not in registered_list and "1 held submission" in registered_list
    assert "ada@example.com" in held_list
    assert "looked like a bot" in page and "Accept and register" in page
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/p/leads/{lead.id}")
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert not lead.held and lead.held_submission is None and lead.counter == 1
    assert db.session.scalar(db.select(Journey.funnel_id).filter_by(lead_id=lead.id)) == funnel.id
    types = db.session.scalars(db.select(Event.type).filter_by(lead_id=lead.id)).all()
    assert {event_types.LEAD_HELD, event_types.LEAD_CREATED, event_types.JOURNEY_CREATED} <= set(
        types
    )
    sent = messages()
    assert any(m.channel == Channel.EMAIL and "Confirm" in m.payload["subject"] for m in sent)
    hooks = [m.payload["type"] for m in sent if m.channel == Channel.WEBHOOK]
    assert event_types.LEAD_CREATED in hooks and event_types.LEAD_UPDATED not in hooks
    assert "ada@example.com" in client.get("/p/leads").get_data(as_text=True)


def test_deleting_a_held_lead_removes_it_and_what_it_sent(client, auth, world):
    ws, _, origin, _ = world
    fast_post(client, origin, email="bot@example.com")
    lead = db.session.scalar(db.select(Lead))
    sign_in(client, auth, ws)

    response = post(client, f"/p/leads/{lead.id}/delete")

    assert response.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Event.id))) == 0


def test_a_registered_lead_is_never_deleted_or_accepted_as_held(client, auth, world):
    ws, _, origin, _ = world
    lead = factories.registered(origin, email="ada@example.com")
    sign_in(client, auth, ws)

    statuses = [
        post(client, f"/p/leads/{lead.id}/{action}").status_code for action in ("delete", "accept")
    ]

    assert statuses == [404, 404]
    assert db.session.get(Lead, lead.id) is not None


def test_the_api_lists_held_leads_only_when_asked(client, world):
    ws, _, origin, _ = world
    fast_post(client, origin, email="held@example.com")
    factories.registered(origin, email="ada@example.com")
    headers = {"Authorization": f"Bearer {factories.api_key(ws)}"}

    default = client.get("/api/v1/leads", headers=headers).get_json()
    held = client.get("/api/v1/leads?held=true", headers=headers).get_json()
    wrong = client.get("/api/v1/leads?held=maybe", headers=headers)

    assert [lead["email"] for lead in default["data"]] == ["ada@example.com"]
    assert [(lead["email"], lead["held"]) for lead in held["data"]] == [("held@example.com", True)]
    assert wrong.status_code == 422 and wrong.get_json()["details"]["field"] == "held"


def test_sent_again_a_held_submission_updates_its_held_lead(client, world):
    _, _, origin, _ = world
    fast_post(client, origin, email="ada@example.com", first_name="Ad")
    fast_post(client, origin, email="ada@example.com", first_name="Ada")

    [lead] = db.session.scalars(db.select(Lead)).all()
    assert lead.held and lead.first_name == "Ada" and lead.counter == 2
    assert lead.held_submission["input"]["first_name"] == "Ada"


def test_a_held_submission_of_a_registered_email_updates_that_lead_once_accepted(
    client, auth, world
):
    ws, _, origin, _ = world
    existing = factories.registered(origin, email="ada@example.com", first_name="Ada")
    fast_post(client, origin, email="ada@example.com", first_name="Adele")
    held = db.session.scalar(db.select(Lead).filter_by(held=True))
    assert held.email is None and held.first_name == "Adele"
    assert db.session.get(Lead, existing.id).first_name == "Ada"  # untouched while held
    sign_in(client, auth, ws)

    response = post(client, f"/p/leads/{held.id}/accept")

    assert response.headers["Location"].endswith(f"/p/leads/{existing.id}")
    db.session.expire_all()
    assert db.session.scalars(db.select(Lead.id)).all() == [existing.id]
    assert db.session.get(Lead, existing.id).first_name == "Adele"


def test_registering_normally_releases_a_held_lead_as_a_new_one(client, world):
    _, _, origin, _ = world
    fast_post(client, origin, email="ada@example.com")

    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")

    assert response.status_code == 200
    [lead] = db.session.scalars(db.select(Lead)).all()
    assert not lead.held
    hooks = [m.payload["type"] for m in messages() if m.channel == Channel.WEBHOOK]
    assert event_types.LEAD_CREATED in hooks


def test_accepting_when_the_funnel_has_closed_says_why_and_keeps_it_held(client, auth, world):
    ws, funnel, origin, _ = world
    fast_post(client, origin, email="ada@example.com")
    lead = db.session.scalar(db.select(Lead))
    funnel.status = "ended"
    db.session.commit()
    sign_in(client, auth, ws)

    response = post(client, f"/p/leads/{lead.id}/accept")

    assert response.status_code == 409
    assert "closed" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).held
