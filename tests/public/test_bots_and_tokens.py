"""What looks like a bot is held, not dropped; the form's token and the rate limit per IP."""

from __future__ import annotations

import time

import pytest

from leadsite.extensions import db
from leadsite.models import Event, Journey, Lead, OriginKind, OutboxMessage
from leadsite.public.tokens import form_token
from tests import factories
from tests.public.helpers import aged_token, page_token, post_form


@pytest.fixture
def origin():
    return factories.origin(
        factories.staged_funnel(factories.workspace()),
        OriginKind.PAGE,
        success_message="Welcome aboard!",
    )


def _held_and_silent() -> Lead:
    """The one lead there is: held, with no journey, no message and only its timeline note."""
    [lead] = db.session.scalars(db.select(Lead)).all()
    assert lead.held and lead.held_submission["origin_id"]
    assert db.session.scalar(db.select(db.func.count(Journey.id))) == 0
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    assert db.session.scalars(db.select(Event.type)).all() == ["lead.held"]
    return lead


def test_a_filled_honeypot_is_held_with_an_honest_thank_you(client, origin):
    response = post_form(
        client, f"/r/{origin.ref}", origin.ref, email="bot@example.com", website="http://spam"
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Welcome aboard!" in body and "once we have checked them" in body
    lead = _held_and_silent()
    assert lead.email == "bot@example.com"
    assert "hidden field" in lead.held_submission["reason"]


def test_a_form_sent_faster_than_a_person_can_fill_it_is_held_not_dropped(client, origin):
    token = page_token(client.get(f"/r/{origin.ref}"))

    response = client.post(f"/r/{origin.ref}", data={"_token": token, "email": "b@example.com"})

    assert response.status_code == 200
    assert "Welcome aboard!" in response.get_data(as_text=True)
    lead = _held_and_silent()
    assert lead.email == "b@example.com"
    assert lead.held_submission["reason"].startswith("sent 0.")


def test_the_same_token_works_once_the_minimum_time_has_passed(app, client, origin):
    app.config["PUBLIC_FORM_MIN_FILL_SECONDS"] = 0.2
    try:
        token = page_token(client.get(f"/r/{origin.ref}"))
        time.sleep(0.3)
        response = client.post(f"/r/{origin.ref}", data={"_token": token, "email": "a@example.com"})
    finally:
        app.config["PUBLIC_FORM_MIN_FILL_SECONDS"] = "2"

    assert response.status_code == 200
    assert db.session.scalar(db.select(Lead.email)) == "a@example.com"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "forged.token.value",
        "other-origin",
        "expired",
    ],
)
def test_a_missing_forged_foreign_or_old_token_sends_the_form_back_intact(client, origin, token):
    tokens = {
        "other-origin": form_token("someotherref", time.time() - 60),
        "expired": form_token(origin.ref, time.time() - 25 * 3600),
    }
    data = {"_token": tokens.get(token, token), "email": "ada@example.com", "first_name": "Ada"}

    response = client.post(f"/r/{origin.ref}", data=data)

    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Please send the form again" in body and "still here" in body
    assert 'value="ada@example.com"' in body and 'value="Ada"' in body
    assert db.session.scalar(db.select(Lead)) is None
    # The fresh token is accepted at once: the lead has spent their time on the form already.
    again = client.post(f"/r/{origin.ref}", data={**data, "_token": page_token(response)})
    assert again.status_code == 200
    assert db.session.scalar(db.select(Lead.email)) == "ada@example.com"


def test_the_token_after_a_validation_error_is_accepted_at_once(client, origin):
    first = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@")

    second = client.post(
        f"/r/{origin.ref}", data={"_token": page_token(first), "email": "ada@example.com"}
    )

    assert first.status_code == 422
    assert second.status_code == 200
    assert db.session.scalar(db.select(Lead.email)) == "ada@example.com"


def test_too_many_posts_from_one_ip_get_a_friendly_429_with_the_form_kept(app, client, origin):
    app.config["PUBLIC_FORM_RATE_LIMIT"] = "2 per day"
    try:
        statuses = [
            post_form(client, f"/r/{origin.ref}", origin.ref, email=f"a{n}@example.com").status_code
            for n in range(2)
        ]
        limited = post_form(client, f"/r/{origin.ref}", origin.ref, email="late@example.com")
        other = factories.origin(origin.funnel, OriginKind.PAGE)
        elsewhere = post_form(client, f"/r/{other.ref}", other.ref, email="b@example.com")
    finally:
        app.config["PUBLIC_FORM_RATE_LIMIT"] = "20 per minute"

    body = limited.get_data(as_text=True)
    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Wait a minute" in body and 'value="late@example.com"' in body
    assert "<form" in body
    assert elsewhere.status_code == 200  # the limit is per origin
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 3


def test_a_get_is_never_rate_limited(app, client, origin):
    app.config["PUBLIC_FORM_RATE_LIMIT"] = "1 per day"
    try:
        statuses = {client.get(f"/r/{origin.ref}").status_code for _ in range(3)}
    finally:
        app.config["PUBLIC_FORM_RATE_LIMIT"] = "20 per minute"

    assert statuses == {200}


def test_aged_tokens_are_bound_to_their_origin(origin):
    from leadsite.public.tokens import form_token_age

    assert form_token_age(aged_token(origin.ref), origin.ref) >= 29
    assert form_token_age(aged_token(origin.ref), "another") is None


def test_a_body_too_large_gets_a_lead_facing_page(client, origin):
    response = client.post(f"/r/{origin.ref}", data={"email": "a" * 70_000})

    assert response.status_code == 413
    assert "That was too much to send" in response.get_data(as_text=True)
    assert "/login" not in response.get_data(as_text=True)


def test_an_unexpected_error_in_a_public_view_gets_a_lead_facing_500(
    app, client, origin, monkeypatch
):
    from leadsite.public import form_view

    def broken(*args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(form_view, "submit", broken)

    response = post_form(client, f"/r/{origin.ref}", origin.ref, email="a@example.com")

    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and "not saved" in body
