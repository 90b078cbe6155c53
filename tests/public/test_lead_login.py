"""The front-office for leads: sign in at /j/login with an emailed one-time link, the list of
their journeys at /j/, the ConnectionURL of POST /api/v1/sessions, progress and the redirect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    Channel,
    Journey,
    JourneyStep,
    Lead,
    LeadSignIn,
    OriginKind,
    OutboxMessage,
    Workspace,
    utcnow,
)
from leadsite.outbox import worker
from leadsite.public.tokens import journey_action_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.servers import smtp_server

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIGN_IN_LINK = re.compile(r"http://localhost/j/login/[A-Za-z0-9_-]+")
SAME_ANSWER = "a link to sign in is on its way"


def _csrf(client: FlaskClient, path: str = "/j/login") -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _ask(client: FlaskClient, email: str, ip: str = "203.0.113.9") -> TestResponse:
    return client.post(
        "/j/login",
        data={"email": email, "csrf_token": _csrf(client)},
        environ_base={"REMOTE_ADDR": ip},
    )


def _sign_in(client: FlaskClient, link: str) -> TestResponse:
    path = link.removeprefix("http://localhost")
    return client.post(path, data={"csrf_token": _csrf(client)})


def _emailed_links(to: str) -> list[str]:
    messages = db.session.scalars(
        db.select(OutboxMessage)
        .filter_by(channel=Channel.EMAIL, target=to)
        .order_by(OutboxMessage.created_at)
    )
    return [SIGN_IN_LINK.search(message.payload["text"]).group(0) for message in messages]


def _registered(ws_name: str = "Acme", email: str = "ada@example.com", funnel: str = "Beta"):
    """A lead registered through a page origin: one task of theirs in each of two stages, and
    a staff task between them."""
    ws = factories.workspace(ws_name)
    fnl = factories.funnel(ws, name=funnel)
    welcome = factories.stage(fnl, "Welcome")
    factories.activity(welcome, ActivityKind.LEAD_TASK, "Watch the intro")
    factories.activity(welcome, ActivityKind.STAFF_TASK, "Check the account")
    follow_up = factories.stage(fnl, "Follow-up")
    factories.activity(follow_up, ActivityKind.LEAD_TASK, "Book a call")
    origin = factories.origin(fnl, OriginKind.PAGE, redirect_url="https://shop.example/thanks")
    result = register(origin, LeadInput(email=email, first_name="Ada"), RegistrationContext())
    db.session.commit()
    return result.journey


@pytest.fixture
def tight_limit(app: Flask) -> Iterator[None]:
    app.config["LEAD_LOGIN_RATE_LIMIT"] = "2 per hour"
    yield
    app.config["LEAD_LOGIN_RATE_LIMIT"] = "5 per hour"


def test_the_emailed_link_signs_the_lead_in_once(app, client):
    journey = _registered()

    asked = _ask(client, " Ada@Example.com ")
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            worker.run_once()
        finally:
            app.config["MAIL_URL"] = None
        [email] = mailbox.wait_for(1)

    assert asked.status_code == 200 and SAME_ANSWER in asked.get_data(as_text=True)
    assert email["To"] == "ada@example.com"
    assert email["Subject"] == "Sign in to your journeys with Acme"
    text = email.get_body(("plain",)).get_content()
    link = SIGN_IN_LINK.search(text).group(0)
    assert "works once, for 15 minutes" in text
    sign_in = db.session.scalar(db.select(LeadSignIn))
    assert sign_in.lead_id == journey.lead_id and link.rsplit("/", 1)[1] not in sign_in.token_hash
    assert timedelta(minutes=14) < sign_in.expires_at - utcnow() <= timedelta(minutes=15)
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.payload["private"] is True  # staff's mailbox does not show the link

    opened = client.get(link.removeprefix("http://localhost"))
    assert opened.status_code == 200
    assert "You are signing in as a•••@example.com with Acme" in opened.get_data(as_text=True)
    assert db.session.scalar(db.select(LeadSignIn.used_at)) is None  # a mail scanner's GET

    signed_in = _sign_in(client, link)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/j/"
    assert "HttpOnly" in signed_in.headers["Set-Cookie"]
    listing = client.get("/j/").get_data(as_text=True)
    assert f'href="/j/{journey.access_token}">Beta</a>' in listing

    again = client.get(link.removeprefix("http://localhost"))
    spent = _sign_in(client, link)
    assert again.status_code == spent.status_code == 410
    assert "already been used" in again.get_data(as_text=True)
    assert "Email me a new link" in again.get_data(as_text=True)

    renewed = client.post(link.removeprefix("http://localhost") + "/renew")
    assert renewed.status_code == 200 and "a•••@example.com" in renewed.get_data(as_text=True)
    first, fresh = _emailed_links("ada@example.com")
    assert first == link and fresh != link
    assert _sign_in(app.test_client(), fresh).status_code == 303


def test_an_expired_link_offers_a_new_one_and_signs_nobody_in(client):
    _registered()
    _ask(client, "ada@example.com")
    [link] = _emailed_links("ada@example.com")
    sign_in = db.session.scalar(db.select(LeadSignIn))
    sign_in.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    shown = client.get(link.removeprefix("http://localhost"))
    used = _sign_in(client, link)

    assert shown.status_code == used.status_code == 410
    assert "This sign-in link has expired" in shown.get_data(as_text=True)
    assert client.get("/j/").headers["Location"] == "/j/login"
    assert client.get("/j/login/not-a-token").status_code == 404


def test_an_unknown_email_gets_the_same_answer_and_no_email(client):
    _registered()
    erased = factories.lead(factories.workspace(), email="gone@example.com")
    erased.erased_at = utcnow()
    db.session.commit()

    known = _ask(client, "ada@example.com").get_data(as_text=True)
    unknown = _ask(client, "nobody@example.com").get_data(as_text=True)
    gone = _ask(client, "gone@example.com")

    def without_email(body: str, email: str) -> str:
        return CSRF.sub("", body).replace(email, "EMAIL")

    assert without_email(known, "ada@example.com") == without_email(unknown, "nobody@example.com")
    assert gone.status_code == 200 and SAME_ANSWER in gone.get_data(as_text=True)
    assert [m.target for m in db.session.scalars(db.select(OutboxMessage))] == ["ada@example.com"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your email address"),
        ("ada@", "Email needs a domain after the @ sign. Enter an address like name@example.com."),
    ],
)
def test_a_bad_email_is_refused_on_its_field(client, typed, message):
    response = _ask(client, typed)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body and 'aria-invalid="true"' in body
    assert db.session.scalar(db.select(OutboxMessage)) is None


def test_a_request_without_the_pages_token_sends_nothing(client):
    _registered()

    response = client.post("/j/login", data={"email": "ada@example.com"})

    assert response.status_code == 400
    assert db.session.scalar(db.select(OutboxMessage)) is None


def test_links_are_rate_limited_per_email_and_per_ip(client, tight_limit):
    _registered()
    for ip in ("203.0.113.1", "203.0.113.2"):
        assert _ask(client, "ada@example.com", ip).status_code == 200

    per_email = _ask(client, "ada@example.com", "203.0.113.3")
    assert _ask(client, "bob@example.com", "203.0.113.4").status_code == 200
    assert _ask(client, "cy@example.com", "203.0.113.4").status_code == 200
    per_ip = _ask(client, "dee@example.com", "203.0.113.4")

    for refused in (per_email, per_ip):
        assert refused.status_code == 429
        assert 3500 < int(refused.headers["Retry-After"]) <= 3600
        assert "try again in an hour" in refused.get_data(as_text=True)
    assert len(_emailed_links("ada@example.com")) == 2


def test_each_workspace_sends_its_own_link_and_the_list_shows_that_lead_only(client):
    acme = _registered("Acme", funnel="Beta")
    other = _registered("Globex", funnel="Gamma")
    stranger = _registered("Acme Two", email="bob@example.com", funnel="Delta")

    _ask(client, "ada@example.com")
    links = _emailed_links("ada@example.com")
    senders = {m.workspace_id for m in db.session.scalars(db.select(OutboxMessage))}

    assert len(links) == 2 and senders == {acme.workspace_id, other.workspace_id}
    acme_link = next(
        link
        for link in links
        if "Acme" in client.get(link.removeprefix("http://localhost")).get_data(as_text=True)
    )
    _sign_in(client, acme_link)
    listing = client.get("/j/").get_data(as_text=True)
    assert f"/j/{acme.access_token}" in listing and "Beta" in listing
    assert f"/j/{other.access_token}" not in listing and "Gamma" not in listing
    assert f"/j/{stranger.access_token}" not in listing and "Delta" not in listing
    assert "0 of 2 done" in listing and "<strong>Next:</strong> Watch the intro" in listing


def test_signing_out_ends_the_front_office_session(client):
    _registered()
    _ask(client, "ada@example.com")
    _sign_in(client, _emailed_links("ada@example.com")[0])

    signed_out = client.post("/j/logout", data={"csrf_token": _csrf(client, "/j/")})

    assert signed_out.headers["Location"] == "/j/login?signed_out=1"
    assert client.get("/j/").headers["Location"] == "/j/login"


def test_an_erased_lead_is_signed_out_and_their_links_forgotten(client):
    from leadsite.erasure import erase_lead

    journey = _registered()
    _ask(client, "ada@example.com")
    _ask(client, "ada@example.com")
    first, second = _emailed_links("ada@example.com")
    _sign_in(client, first)

    erase_lead(db.session.get(Lead, journey.lead_id))
    db.session.commit()

    assert client.get("/j/").headers["Location"] == "/j/login"
    assert client.get(second.removeprefix("http://localhost")).status_code == 404
    assert db.session.scalar(db.select(db.func.count(LeadSignIn.id))) == 0


def test_the_connection_url_signs_the_lead_in_and_opens_the_journey(client):
    journey = _registered()
    key = factories.api_key(db.session.get(Workspace, journey.workspace_id))
    session = client.post(
        "/api/v1/sessions",
        json={"Journey": {"Id": journey.id}},
        headers={"Authorization": f"Bearer {key}"},
    ).json

    opened = client.get(session["ConnectionURL"].removeprefix("http://localhost"))

    assert opened.headers["Location"] == f"/j/{journey.access_token}"
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert 'href="/j/">All your journeys</a>' in page
    assert f"/j/{journey.access_token}" in client.get("/j/").get_data(as_text=True)


def test_a_signed_in_lead_opens_their_journey_whatever_the_age_of_its_link(app, client):
    journey = _registered()
    journey.valid_until = utcnow() - timedelta(days=1)
    db.session.commit()
    expired = client.get(f"/j/{journey.access_token}")
    assert expired.status_code == 410
    assert 'href="/j/login">Sign in to see all your journeys' in expired.get_data(as_text=True)

    _ask(client, "ada@example.com")
    _sign_in(client, _emailed_links("ada@example.com")[0])

    assert client.get(f"/j/{journey.access_token}").status_code == 200
    assert app.test_client().get(f"/j/{journey.access_token}").status_code == 410  # nobody's


def _step(journey: Journey, title: str) -> JourneyStep:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(db.select(JourneyStep).filter_by(journey_id=journey.id, title=title))


def _done(client: FlaskClient, journey: Journey, title: str) -> TestResponse:
    return client.post(
        f"/j/{journey.access_token}/steps/{_step(journey, title).id}",
        data={"_token": journey_action_token(journey.id)},
        headers={"User-Agent": "Mozilla/5.0 (Lead's phone)"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )


def test_each_completion_records_what_when_where_and_the_last_one_redirects(client):
    from leadsite.journeys.engine import complete_step

    journey = _registered()
    first = _done(client, journey, "Watch the intro")
    complete_step(_step(journey, "Check the account"))
    db.session.commit()
    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)

    last = _done(client, journey, "Book a call")

    assert first.headers["Location"] == f"/j/{journey.access_token}?saved=1"
    assert "1 of 2 done" in page and '<progress max="2" value="1"' in page
    assert "Now: <strong>Follow-up</strong>" in page
    assert last.status_code == 303
    assert last.headers["Location"] == "https://shop.example/thanks"  # the origin's redirect
    result = _step(journey, "Book a call").result
    assert result["by"] == "lead" and result["done"] == "marked done"
    assert result["ip"] == "198.51.100.7" and result["user_agent"] == "Mozilla/5.0 (Lead's phone)"
    assert result["at"].startswith(utcnow().strftime("%Y-%m-%d"))
    after = client.get(f"/j/{journey.access_token}").get_data(as_text=True)
    assert "2 of 2 done" in after and 'href="https://shop.example/thanks">Continue' in after


def test_with_no_redirect_the_page_says_there_is_nowhere_to_go(client):
    ws = factories.workspace()
    fnl = factories.funnel(ws)
    factories.activity(factories.stage(fnl, "Welcome"), ActivityKind.LEAD_TASK, "Say hello")
    origin = factories.origin(fnl, OriginKind.PAGE)
    journey = register(origin, LeadInput(email="ada@example.com"), RegistrationContext()).journey
    db.session.commit()

    done = _done(client, journey, "Say hello")

    assert done.headers["Location"] == f"/j/{journey.access_token}?saved=1"
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "There is no other page to go to" in page


def test_a_step_of_another_kind_is_not_marked_done_by_the_plain_button(client):
    ws = factories.workspace()
    fnl = factories.funnel(ws)
    welcome = factories.stage(fnl, "Welcome")
    factories.activity(welcome, ActivityKind.UPLOAD, "Your ID", description="A scan or photo.")
    factories.activity(welcome, ActivityKind.LEAD_TASK, "Say hello")
    origin = factories.origin(fnl, OriginKind.PAGE)
    journey = register(origin, LeadInput(email="ada@example.com"), RegistrationContext()).journey
    db.session.commit()

    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)
    refused = _done(client, journey, "Your ID")

    assert "0 of 2 done" in page and "A scan or photo." in page
    assert refused.status_code == 409
    assert _step(journey, "Your ID").status == "due"
