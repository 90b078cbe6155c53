"""Double opt-in: the confirmation email is queued; its link shows a button that confirms."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import (
    Channel,
    Event,
    Journey,
    Lead,
    OriginKind,
    OutboxMessage,
    Workspace,
    utcnow,
)
from leadsite.outbox import event_types
from leadsite.public.confirm import awaiting_confirmation, send_confirmation
from leadsite.public.tokens import CONFIRM_MAX_AGE, confirm_token
from leadsite.registration import LeadInput, Registration, RegistrationContext, register
from tests import factories

LINK = re.compile(r"http://localhost/confirm/[\w.-]+")


def registered(double_opt_in: bool = True, **lead: str) -> Registration:
    funnel = factories.staged_funnel(factories.workspace(), double_opt_in=double_opt_in)
    origin = factories.origin(funnel, OriginKind.PAGE, redirect_url="https://shop.example/hi")
    lead.setdefault("email", "ada@example.com")
    registration = register(origin, LeadInput(first_name="Ada", **lead), RegistrationContext())
    if not emails():  # until the pipeline makes this call itself
        send_confirmation(registration.lead, registration.journey)
    db.session.commit()
    return registration


def emails() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target="ada@example.com")
        )
    )


def confirm_link() -> str:
    [message] = [m for m in emails() if "Confirm" in m.payload["subject"]]
    return LINK.search(message.payload["text"])[0].removeprefix("http://localhost")


def test_the_confirmation_email_is_queued_with_a_one_click_link_and_unsubscribe():
    registered()

    [message] = emails()
    payload = message.payload
    assert payload["subject"] == "Confirm your registration: Onboarding"
    assert LINK.search(payload["text"]) and LINK.search(payload["html"])
    assert "/unsubscribe/" in payload["text"] and "/unsubscribe/" in payload["html"]
    assert payload["headers"]["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
    assert payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.lead_id == db.session.scalar(db.select(Lead.id))


def test_no_confirmation_without_double_opt_in_or_when_already_confirmed():
    registration = registered(double_opt_in=False)
    assert emails() == []

    registration.lead.confirmed_at = registration.lead.created_at
    registration.journey.funnel.double_opt_in = True
    assert send_confirmation(registration.lead, registration.journey) is None


def test_opening_the_link_confirms_nothing_and_shows_one_button(client):
    """Mail scanners and link previews open links: only the button confirms."""
    registration = registered()
    link = confirm_link()

    responses = [client.get(link), client.head(link)]

    body = responses[0].get_data(as_text=True)
    assert [r.status_code for r in responses] == [200, 200]
    assert "Confirm your registration" in body and "a•••@example.com" in body
    assert f'<form method="post" action="{link}">' in body
    assert '<button type="submit" class="button">Yes, confirm my registration</button>' in body
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Lead, registration.lead.id).confirmed_at is None
    assert db.session.scalar(db.select(Event.id).filter_by(type=event_types.LEAD_CONFIRMED)) is None


def test_the_button_confirms_the_lead_and_writes_the_event(client):
    registration = registered()
    assert awaiting_confirmation(registration.lead)

    response = client.post(confirm_link())

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your registration is confirmed" in body
    db.session.rollback()
    db.session.expire_all()
    lead = db.session.get(Lead, registration.lead.id)
    assert lead.confirmed_at is not None
    assert not awaiting_confirmation(lead)
    assert db.session.scalar(db.select(Event.type).filter_by(type=event_types.LEAD_CONFIRMED))


def _journey_link(body: str) -> str:
    match = re.search(r'<a class="button" href="http://localhost(/j/[\w-]+)">([^<]+)</a>', body)
    assert match, "no link to the journey page"
    return match[1]


def test_after_confirming_the_page_names_the_next_task_and_links_to_the_journey_page(client):
    registration = registered()

    response = client.post(confirm_link())

    body = response.get_data(as_text=True)
    assert "Your next step is “Fill in your profile”." in body
    assert "nothing more to do" not in body
    link = _journey_link(body)
    db.session.rollback()
    db.session.expire_all()
    assert link == f"/j/{db.session.get(Journey, registration.journey.id).access_token}"
    journey_page = client.get(link)
    assert journey_page.status_code == 200 and "Fill in your profile" in journey_page.get_data(
        as_text=True
    )


def test_an_expired_journey_link_is_renewed_for_the_page_after_confirming(client):
    registration = registered()
    registration.journey.valid_until = utcnow() - timedelta(days=1)
    old = registration.journey.access_token
    db.session.commit()

    body = client.post(confirm_link()).get_data(as_text=True)

    link = _journey_link(body)
    assert link != f"/j/{old}"
    assert client.get(link).status_code == 200


def test_with_nothing_left_to_do_the_page_says_so_and_sends_the_lead_on(client):
    funnel = factories.funnel(factories.workspace(), double_opt_in=True)
    origin = factories.origin(funnel, OriginKind.PAGE, redirect_url="https://shop.example/hi")
    register(origin, LeadInput(email="ada@example.com"), RegistrationContext())
    db.session.commit()

    body = client.post(confirm_link()).get_data(as_text=True)

    assert "There is nothing more to do." in body
    assert 'href="https://shop.example/hi"' in body


def test_confirming_twice_is_harmless(client):
    registered()
    link = confirm_link()

    first, second, opened = client.post(link), client.post(link), client.get(link)

    assert (first.status_code, second.status_code, opened.status_code) == (200, 200, 200)
    assert "You had confirmed already" in second.get_data(as_text=True)
    assert "You had confirmed already" in opened.get_data(as_text=True)
    confirmed = db.select(db.func.count(Event.id)).filter_by(type=event_types.LEAD_CONFIRMED)
    assert db.session.scalar(confirmed) == 1


def test_the_api_shows_an_unconfirmed_lead_as_such(client):
    registration = registered()
    key = factories.api_key(db.session.get(Workspace, registration.lead.workspace_id))

    response = client.get(
        f"/api/v1/leads/{registration.lead.id}", headers={"Authorization": f"Bearer {key}"}
    )

    assert response.json["data"]["confirmed"] is False


def test_an_expired_link_offers_a_new_one_which_is_sent(client, monkeypatch):
    registration = registered()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - CONFIRM_MAX_AGE - 60)
    old = confirm_token(registration.lead.id, registration.journey.id)
    monkeypatch.setattr(time, "time", real_time)

    shown = client.get(f"/confirm/{old}")
    pressed = client.post(f"/confirm/{old}")
    resent = client.post(f"/confirm/{old}/resend")

    assert shown.status_code == pressed.status_code == 410
    assert "This link has expired" in shown.get_data(as_text=True)
    assert f'action="/confirm/{old}/resend"' in shown.get_data(as_text=True)
    assert db.session.get(Lead, registration.lead.id).confirmed_at is None
    assert resent.status_code == 200
    assert "a•••@example.com" in resent.get_data(as_text=True)
    assert len(emails()) == 2


@pytest.mark.parametrize("token", ["garbage", "eyJsZWFkIjoibGVhZF8xIn0.abc.def"])
def test_a_link_we_did_not_make_is_404(client, token):
    response = client.get(f"/confirm/{token}")

    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)


def test_a_confirm_token_is_not_an_unsubscribe_token(client):
    registration = registered()
    token = confirm_token(registration.lead.id, registration.journey.id)

    response = client.post(f"/unsubscribe/{token}")

    assert response.status_code == 404
    assert db.session.get(Lead, registration.lead.id).opted_out_at is None
