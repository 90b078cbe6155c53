"""Sign-in, sign-out, remember-me, rate limits and CSRF on the back-office."""

from __future__ import annotations

import pytest

from leadsite.auth import BAD_CREDENTIALS
from leadsite.extensions import db
from leadsite.models import Role, User
from tests import factories
from tests.conftest import csrf_token


def test_sign_in_with_the_right_password_opens_the_back_office(client, auth):
    person = factories.user()

    response = auth.login(person.email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/p/"
    dashboard = client.get("/p/")
    assert dashboard.status_code == 200
    assert "Dashboard" in dashboard.get_data(as_text=True)
    assert db.session.get(User, person.id).last_login_at is not None


def test_sign_in_ignores_the_case_and_spaces_of_the_email(auth):
    person = factories.user(email="mixed@example.com")

    assert auth.login("  Mixed@Example.COM ").status_code == 302
    assert person.email == "mixed@example.com"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("known@example.com", "wrong password"),
        ("nobody@example.com", factories.PASSWORD),
    ],
    ids=["wrong-password", "unknown-email"],
)
def test_failed_sign_in_gives_one_message_whatever_was_wrong(client, auth, email, password):
    factories.user(email="known@example.com")

    response = auth.login(email, password)

    assert response.status_code == 422
    assert BAD_CREDENTIALS in response.get_data(as_text=True)
    assert client.get("/p/").status_code == 302  # still signed out


def test_a_deactivated_user_cannot_sign_in(auth):
    person = factories.user()
    person.active = False
    db.session.commit()

    response = auth.login(person.email)

    assert response.status_code == 422
    assert "deactivated" in response.get_data(as_text=True)


def test_a_user_deactivated_in_their_only_workspace_cannot_sign_in(client, auth):
    person = factories.user()
    person.memberships[0].active = False
    db.session.commit()

    response = auth.login(person.email)

    assert response.status_code == 422
    assert "deactivated" in response.get_data(as_text=True)
    assert client.get("/p/").status_code == 302


def test_back_office_pages_send_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/p/settings/workspace")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, auth):
    person = factories.user()
    token = csrf_token(client)
    ok = client.post(
        "/login?next=/p/settings/workspace",
        data={"email": person.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert ok.headers["Location"] == "/p/settings/workspace"

    auth.logout()
    token = csrf_token(client)
    evil = client.post(
        "/login?next=//evil.example/p",
        data={"email": person.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert evil.headers["Location"] == "/p/"


def test_remember_me_sets_a_lasting_cookie(client, auth):
    person = factories.user()

    response = auth.login(person.email, remember="y")

    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember
    assert "Expires=" in remember


def test_sign_out_ends_the_session(client, auth):
    person = factories.user()
    auth.login(person.email)

    response = auth.logout()

    assert response.status_code == 302
    assert client.get("/p/").status_code == 302


def test_sign_out_by_get_is_not_allowed(client):
    assert client.get("/logout").status_code == 405


def test_sign_in_without_csrf_token_is_refused(client):
    person = factories.user()

    response = client.post("/login", data={"email": person.email, "password": factories.PASSWORD})

    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert client.get("/p/").status_code == 302


def test_too_many_sign_in_attempts_from_one_address_get_429(app, client, auth):
    app.config["LOGIN_RATE_LIMIT"] = "3 per day"
    factories.user(email="victim@example.com")

    statuses = [auth.login(f"guess{i}@example.com", "nope").status_code for i in range(4)]

    assert statuses == [422, 422, 422, 429]
    page = auth.login("victim@example.com")
    assert page.status_code == 429
    assert "Too many attempts" in page.get_data(as_text=True)
    assert "Retry-After" in page.headers


def test_too_many_attempts_on_one_email_get_429_from_any_address(app, auth):
    app.config["LOGIN_RATE_LIMIT"] = "3 per day"
    factories.user(email="victim@example.com")

    statuses = [
        auth.login(
            "victim@example.com",
            "nope",
        ).status_code
        for _ in range(3)
    ]
    # A fourth attempt from another address still counts against the email.
    from_elsewhere = auth._client.post(
        "/login",
        data={
            "email": "Victim@example.com",
            "password": "nope",
            "csrf_token": csrf_token(auth._client),
        },
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )

    assert statuses == [422, 422, 422]
    assert from_elsewhere.status_code == 429


def test_a_manager_is_refused_administrator_pages(client, auth):
    ws = factories.workspace()
    manager = factories.user(ws, role=Role.MANAGER)
    auth.login(manager.email)

    response = client.get("/p/settings/workspace")

    assert response.status_code == 403
    assert "Settings" not in client.get("/p/").get_data(as_text=True)


def test_an_administrator_edits_the_workspace(client, auth):
    ws = factories.workspace("Acme")
    admin = factories.user(ws)
    auth.login(admin.email)
    token = csrf_token(client, "/p/settings/workspace")

    response = client.post(
        "/p/settings/workspace",
        data={
            "name": "Acme Europe",
            "timezone": "Europe/Paris",
            "default_country": "FR",
            "sender_email": "",
            "csrf_token": token,
        },
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Workspace settings saved." in response.get_data(as_text=True)
    db.session.refresh(ws)
    assert (ws.name, ws.timezone, ws.default_country) == ("Acme Europe", "Europe/Paris", "FR")


def test_workspace_form_errors_answer_422_with_the_form(client, auth):
    admin = factories.user()
    auth.login(admin.email)
    token = csrf_token(client, "/p/settings/workspace")

    response = client.post(
        "/p/settings/workspace",
        data={"name": "", "timezone": "Mars/Olympus", "default_country": "FR", "csrf_token": token},
        headers={"HX-Request": "true"},
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="workspace-form"' in body
    assert "<html" not in body
    assert 'aria-invalid="true"' in body
    assert "Choose a time zone from the list" in body


def test_a_method_a_word_route_does_not_take_is_a_405_not_a_missing_record(client, auth):
    auth.login(factories.user().email)

    # Each word is its own POST-only route beside a `<...>` route that takes GET.
    for path in ("/p/leads/views", "/p/leads/bulk", "/j/logout"):
        response = client.get(path)
        assert response.status_code == 405, path
        assert "POST" in response.headers["Allow"], path
