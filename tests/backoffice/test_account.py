"""Your account: every staff member changes their own password."""

from __future__ import annotations

import html

import pytest
from flask import g

from leadsite.extensions import db
from leadsite.models import Role, User
from leadsite.passwords import verify_password
from tests import factories
from tests.conftest import AuthActions, csrf_token

HTMX = {"HX-Request": "true"}
NEW = "a-new-passphrase"


def _change(client, **fields: str):
    data = {"current_password": factories.PASSWORD, "new_password": NEW, "confirm_password": NEW}
    data.update(fields, csrf_token=csrf_token(client, "/p/account"))
    return client.post("/p/account", data=data, headers=HTMX)


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.MANAGER])
def test_anyone_signed_in_changes_their_password(client, auth, role):
    user = factories.user(factories.workspace(), role=role, email="ana@example.com")
    auth.login(user.email)

    page = client.get("/p/account")
    response = _change(client)

    assert page.status_code == 200 and "Change your password" in page.get_data(as_text=True)
    assert 'href="/p/account"' in page.get_data(as_text=True)  # the header links here
    assert response.status_code == 302 and response.headers["Location"] == "/p/account"
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, NEW)
    auth.logout()
    assert auth.login(user.email).status_code == 422  # the old password is refused
    assert auth.login(user.email, NEW).headers["Location"].startswith("/p/")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"current_password": "wrong-password"}, "current_password", "not your current password"),
        ({"new_password": "short", "confirm_password": "short"}, "new_password", "10 characters"),
        ({"confirm_password": "another-passphrase"}, "confirm_password", "passwords differ"),
        (
            {"new_password": factories.PASSWORD, "confirm_password": factories.PASSWORD},
            "new_password",
            "other than your current one",
        ),
    ],
)
def test_a_refused_change_answers_422_on_its_field_and_keeps_the_password(
    client, auth, fields, field, message
):
    user = factories.user(factories.workspace(), email="ana@example.com")
    auth.login(user.email)

    response = _change(client, **fields)

    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert f'id="{field}-error"' in body and message in body
    assert 'id="password-form"' in body and "<html" not in body  # the block, for htmx
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, factories.PASSWORD)


def test_the_account_page_needs_sign_in(client):
    response = client.get("/p/account")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def _forget_signed_in_user() -> None:
    """A test's requests share its app context, where Flask-Login caches the user and
    Flask-WTF the CSRF token: forget both before another client (another device) asks."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def test_a_new_password_signs_out_every_other_session_but_this_one(app, client, auth):
    user = factories.user(factories.workspace(), email="ana@example.com")
    laptop = app.test_client()
    AuthActions(laptop).login(user.email, remember="y")
    _forget_signed_in_user()
    auth.login(user.email)
    _forget_signed_in_user()
    assert laptop.get("/p/leads").status_code == 200  # signed in elsewhere, remembered
    assert laptop.get_cookie("remember_token") is not None

    _forget_signed_in_user()
    assert _change(client).status_code == 302

    _forget_signed_in_user()
    assert client.get("/p/leads").status_code == 200  # this session goes on
    _forget_signed_in_user()
    response = laptop.get("/p/leads")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    _forget_signed_in_user()
    laptop.delete_cookie("session")  # the browser was closed: only remember-me is left
    response = laptop.get("/p/leads")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
