"""Forgot password: an emailed link that expires and works once, the same answer for known and
unknown emails, and a rate limit."""

from __future__ import annotations

import re

import pytest
from flask import g
from itsdangerous.encoding import base64_decode, base64_encode

from leadsite.access import password_resets
from leadsite.extensions import db
from leadsite.models import Channel, OutboxMessage, User
from leadsite.outbox import worker
from leadsite.passwords import verify_password
from tests import factories
from tests.conftest import AuthActions, csrf_token
from tests.servers import smtp_server

LINK = re.compile(r"http://localhost(/reset-password/[A-Za-z0-9_.-]+)")
NEW_PASSWORD = "a brand new password"


def _forget_signed_in_user() -> None:
    """Requests of a test share its app context, where Flask-Login caches the user and
    Flask-WTF the CSRF token: forget both before another client (another device) asks."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _ask(client, email: str):
    _forget_signed_in_user()
    token = csrf_token(client, "/forgot-password")
    return client.post("/forgot-password", data={"email": email, "csrf_token": token})


def _choose(client, path: str, password: str = NEW_PASSWORD, again: str | None = None):
    _forget_signed_in_user()
    token = csrf_token(client, path)
    data = {"password": password, "confirm_password": again or password, "csrf_token": token}
    return client.post(path, data=data)


def _emails() -> list[OutboxMessage]:
    return list(db.session.scalars(db.select(OutboxMessage).filter_by(channel=Channel.EMAIL)))


def test_the_sign_in_page_links_to_forgot_password(client):
    body = client.get("/login").get_data(as_text=True)

    assert 'href="/forgot-password"' in body and "Forgot password?" in body


def test_known_and_unknown_emails_get_the_same_answer(client):
    factories.user(email="known@example.com")

    known = _ask(client, "known@example.com")
    unknown = _ask(client, "unknown@example.com")

    def neutral(response, email: str) -> str:
        body = response.get_data(as_text=True).replace(email, "EMAIL")
        # CSRF tokens and CSP nonces differ from one response to the next.
        return re.sub(r'value="[^"]+"|nonce="[^"]+"|[\w-]{20,}\.[\w-]+\.[\w-]+', "", body)

    assert known.status_code == unknown.status_code == 200
    assert "a link to choose a new password is on its way" in known.get_data(as_text=True)
    assert neutral(known, "known@example.com") == neutral(unknown, "unknown@example.com")
    assert [m.target for m in _emails()] == ["known@example.com"]


def test_the_emailed_link_sets_a_new_password_once_and_signs_out_every_session(app, client):
    ws = factories.workspace("Acme")
    ana = factories.user(ws, email="ana@example.com")
    laptop = app.test_client()
    AuthActions(laptop).login(ana.email, remember="y")
    _forget_signed_in_user()
    assert laptop.get("/p/").status_code == 200

    _ask(client, "Ana@Example.com ")
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            assert worker.run_once() == 1
        finally:
            app.config["MAIL_URL"] = None
        email = mailbox.wait_for(1)[0]
    assert email["To"] == "ana@example.com"
    path = LINK.search(email.get_body(("plain",)).get_content()).group(1)
    _forget_signed_in_user()
    assert client.get(path).status_code == 200
    short = _choose(client, path, "short")
    assert short.status_code == 422 and "10 characters" in short.get_data(as_text=True)
    response = _choose(client, path)

    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert verify_password(db.session.get(User, ana.id).password_hash, NEW_PASSWORD)
    _forget_signed_in_user()
    ended = laptop.get("/p/")  # the other session is over, remember-me cookie and all
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    _forget_signed_in_user()
    laptop.delete_cookie("session")
    assert laptop.get("/p/").status_code == 302
    _forget_signed_in_user()
    assert AuthActions(app.test_client()).login(ana.email).status_code == 422  # old password
    _forget_signed_in_user()
    assert AuthActions(app.test_client()).login(ana.email, NEW_PASSWORD).status_code == 302
    # Used once: the same link now fails, also for another new password.
    _forget_signed_in_user()
    reused = app.test_client().get(path)
    assert reused.status_code == 404 and "does not work" in reused.get_data(as_text=True)


def test_an_expired_link_does_not_work(client, monkeypatch):
    ana = factories.user(email="ana@example.com")
    _ask(client, ana.email)
    [message] = _emails()
    path = LINK.search(message.payload["text"]).group(1)
    old_hash = ana.password_hash
    monkeypatch.setattr(password_resets, "VALID_MINUTES", -1)

    _forget_signed_in_user()
    page = client.get(path)
    _forget_signed_in_user()
    post = client.post(path, data={"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})

    assert page.status_code == 404 and post.status_code in (400, 404)
    db.session.expire_all()
    assert db.session.get(User, ana.id).password_hash == old_hash


def test_a_tampered_link_does_not_work(client):
    ana = factories.user(email="ana@example.com")
    other = factories.user(email="eve@example.com")
    payload, timestamp, signature = password_resets.reset_token(ana).split(".")
    other_payload = base64_decode(payload).replace(ana.id.encode(), other.id.encode())
    forged = ".".join([base64_encode(other_payload).decode(), timestamp, signature])
    assert forged != password_resets.reset_token(ana)

    assert client.get(f"/reset-password/{forged}").status_code == 404
    assert client.get("/reset-password/not-a-token").status_code == 404


def test_an_account_without_access_anywhere_gets_no_email(client):
    ana = factories.user(email="ana@example.com")
    ana.memberships[0].active = False
    db.session.commit()

    response = _ask(client, ana.email)

    assert response.status_code == 200 and "on its way" in response.get_data(as_text=True)
    assert _emails() == []


@pytest.mark.parametrize("email", ["known@example.com", "unknown@example.com"])
def test_too_many_requests_get_429_whether_or_not_the_email_is_known(app, client, email):
    factories.user(email="known@example.com")
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "2 per day"
    try:
        answers = [_ask(client, email).status_code for _ in range(3)]
    finally:
        app.config["PASSWORD_RESET_RATE_LIMIT"] = "5 per hour"

    assert answers == [200, 200, 429]
    assert len(_emails()) == (2 if email.startswith("known") else 0)


def test_requests_for_one_email_are_limited_from_any_address(app):
    factories.user(email="known@example.com")
    app.config["PASSWORD_RESET_RATE_LIMIT"] = "2 per day"
    try:
        answers = [_ask(app.test_client(), "known@example.com").status_code for _ in range(2)]
        _forget_signed_in_user()
        other = app.test_client()
        token = csrf_token(other, "/forgot-password")
        third = other.post(
            "/forgot-password",
            data={"email": "known@example.com", "csrf_token": token},
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )
    finally:
        app.config["PASSWORD_RESET_RATE_LIMIT"] = "5 per hour"

    assert answers == [200, 200] and third.status_code == 429
    assert len(_emails()) == 2
