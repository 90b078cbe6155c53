"""Sessions live on the server: sign-out and "Sign out everywhere else" end them, whatever copy
of the session or remember-me cookie someone kept; wrong current passwords are rate-limited."""

from __future__ import annotations

from datetime import timedelta

from flask import g

from leadsite.extensions import db
from leadsite.models import UserSession, utcnow
from tests import factories
from tests.conftest import AuthActions, csrf_token


def _forget_signed_in_user() -> None:
    """A test's requests share its app context, where Flask-Login caches the user and
    Flask-WTF the CSRF token: forget both before another client (another device) asks."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _get(client, path: str = "/p/"):
    _forget_signed_in_user()
    return client.get(path)


def _signed_out(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def _sign_in(app, email: str, **extra: str):
    client = app.test_client()
    _forget_signed_in_user()
    assert AuthActions(client).login(email, **extra).status_code == 302
    return client


def _post(client, path: str, data: dict[str, str] | None = None, **kwargs: object):
    _forget_signed_in_user()
    token = csrf_token(client, "/p/account")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def test_a_session_cookie_copied_before_sign_out_does_not_work_after(app):
    ana = factories.user(email="ana@example.com")
    browser = _sign_in(app, ana.email)
    copied = browser.get_cookie("session").value

    _forget_signed_in_user()
    assert AuthActions(browser).logout().status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert _signed_out(_get(thief))
    [row] = db.session.scalars(db.select(UserSession).filter_by(user_id=ana.id))
    assert row.revoked_at is not None


def test_a_remember_me_cookie_copied_before_sign_out_does_not_work_after(app):
    ana = factories.user(email="ana@example.com")
    browser = _sign_in(app, ana.email, remember="y")
    copied = browser.get_cookie("remember_token").value
    before = app.test_client()
    before.set_cookie("remember_token", copied)
    assert _get(before).status_code == 200  # the cookie alone signs in, before sign-out

    _forget_signed_in_user()
    AuthActions(browser).logout()

    thief = app.test_client()
    thief.set_cookie("remember_token", copied)
    assert _signed_out(_get(thief))


def test_sign_in_records_the_browser_and_the_account_page_lists_it(app):
    ana = factories.user(email="ana@example.com")
    client = app.test_client()
    _forget_signed_in_user()
    token = csrf_token(client)
    client.post(
        "/login",
        data={"email": ana.email, "password": factories.PASSWORD, "csrf_token": token},
        headers={"User-Agent": "Firefox on the test bench"},
    )

    page = _get(client, "/p/account").get_data(as_text=True)

    [row] = db.session.scalars(db.select(UserSession).filter_by(user_id=ana.id))
    assert row.user_agent == "Firefox on the test bench" and row.ip == "127.0.0.1"
    assert "Firefox on the test bench" in page and "this browser" in page


def test_sign_out_everywhere_else_ends_the_other_sessions_and_keeps_this_one(app):
    ana = factories.user(email="ana@example.com")
    eve = factories.user(email="eve@example.com")
    laptop = _sign_in(app, ana.email, remember="y")
    phone = _sign_in(app, ana.email)
    eve_browser = _sign_in(app, eve.email)
    here = _sign_in(app, ana.email)
    laptop_remember = laptop.get_cookie("remember_token").value

    response = _post(here, "/p/account/sessions/revoke")

    assert response.status_code == 302
    _forget_signed_in_user()
    assert "Signed out of 2 other sessions." in here.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert _get(here).status_code == 200
    assert _signed_out(_get(laptop)) and _signed_out(_get(phone))
    remembered = app.test_client()
    remembered.set_cookie("remember_token", laptop_remember)
    assert _signed_out(_get(remembered))
    assert _get(eve_browser).status_code == 200  # someone else's sessions are theirs


def test_sign_out_everywhere_needs_the_csrf_token(app):
    ana = factories.user(email="ana@example.com")
    laptop = _sign_in(app, ana.email)
    here = _sign_in(app, ana.email)

    _forget_signed_in_user()
    refused = here.post("/p/account/sessions/revoke")

    assert refused.status_code == 400
    assert _get(laptop).status_code == 200


def _wrong_guess(client, **kwargs: object):
    return _post(
        client,
        "/p/account",
        {
            "current_password": "not my password",
            "new_password": "a new password here",
            "confirm_password": "a new password here",
        },
        **kwargs,
    )


def test_wrong_current_passwords_are_rate_limited_per_user(app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per day"
    ana = factories.user(email="ana@example.com")
    client = _sign_in(app, ana.email)
    other_address = _sign_in(app, ana.email)

    answers = [_wrong_guess(client).status_code for _ in range(3)]
    blocked = _wrong_guess(client)
    from_elsewhere = _wrong_guess(other_address, environ_base={"REMOTE_ADDR": "10.0.0.7"})
    right = _post(
        client,
        "/p/account",
        {
            "current_password": factories.PASSWORD,
            "new_password": "a new password here",
            "confirm_password": "a new password here",
        },
    )

    assert answers == [422, 422, 422]
    assert blocked.status_code == 429 and from_elsewhere.status_code == 429
    assert right.status_code == 429  # even the right one waits: the guesses were used up


def test_wrong_current_passwords_are_rate_limited_per_address(app):
    people = [factories.user(email=f"person{n}@example.com") for n in range(4)]
    clients = [_sign_in(app, person.email) for person in people]
    app.config["LOGIN_RATE_LIMIT"] = "3 per day"  # after signing in: sign-in shares it

    answers = [_wrong_guess(client).status_code for client in clients]

    assert answers == [422, 422, 422, 429]


def test_other_mistakes_on_the_account_form_are_not_counted(app):
    app.config["LOGIN_RATE_LIMIT"] = "3 per day"
    ana = factories.user(email="ana@example.com")
    client = _sign_in(app, ana.email)
    mismatch = {
        "current_password": factories.PASSWORD,
        "new_password": "a new password here",
        "confirm_password": "another one",
    }

    answers = [_post(client, "/p/account", mismatch).status_code for _ in range(5)]

    assert answers == [422] * 5


def test_a_session_seen_minutes_ago_is_marked_seen_again(app):
    ana = factories.user(email="ana@example.com")
    browser = _sign_in(app, ana.email)
    [row] = db.session.scalars(db.select(UserSession).filter_by(user_id=ana.id))
    long_ago = utcnow() - timedelta(minutes=10)
    row.last_seen_at = long_ago
    db.session.commit()

    assert _get(browser).status_code == 200

    db.session.expire_all()
    assert db.session.get(UserSession, row.id).last_seen_at > long_ago + timedelta(minutes=9)
