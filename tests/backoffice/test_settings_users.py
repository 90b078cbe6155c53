"""Settings, users: the list, invalid invitations, change roles, deactivate (tests of
invitations themselves: test_invitations.py)."""

from __future__ import annotations

import pytest
from flask import g

from leadsite.extensions import db
from leadsite.models import Membership, Role, User, Workspace
from tests import factories
from tests.conftest import AuthActions, csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth, ws: Workspace | None = None) -> tuple[Workspace, User]:
    ws = ws or factories.workspace()
    admin = factories.user(ws, email="admin@example.com")
    auth.login(admin.email)
    return ws, admin


def _post(client, path: str, data: dict[str, str] | None = None, **kwargs: object):
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def _forget_signed_in_user() -> None:
    """Requests of a test share its app context, where Flask-Login caches the user and
    Flask-WTF the CSRF token: forget both before another client (another person) asks."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _membership(user: User, ws: Workspace) -> Membership | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Membership).filter_by(user_id=user.id, workspace_id=ws.id))


def test_the_page_lists_the_workspaces_users_only(client, auth):
    ws, _ = _sign_in(auth)
    factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    factories.user(factories.workspace(), email="eve@example.com")

    full = client.get("/p/settings/users")
    partial = client.get("/p/settings/users", headers=HTMX)

    body = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in body
    assert "ana@example.com" in body and "admin@example.com" in body and "(you)" in body
    assert "eve@example.com" not in body
    assert partial.get_data(as_text=True).lstrip().startswith('<div id="users"')


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": ""}, "This field is required."),
        (
            {"email": "not an email"},
            "Email needs an @ sign. Enter an address like name@example.com.",
        ),
        ({"email": "admin@example.com"}, "admin@example.com is already a user of this workspace."),
        ({"email": "new@example.com", "role": "owner"}, "Not a valid choice."),
        ({"email": "x" * 250 + "@example.com"}, "254"),
    ],
)
def test_invalid_additions_answer_422(client, auth, data, message):
    _sign_in(auth)

    fragment = _post(client, "/p/settings/users", {"role": "manager", **data}, headers=HTMX)
    page = _post(client, "/p/settings/users", {"role": "manager", **data})

    assert fragment.status_code == page.status_code == 422
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="user-form"') and message in body
    assert "<html" in page.get_data(as_text=True)
    assert db.session.scalar(db.select(User).filter_by(email="new@example.com")) is None


def test_changing_a_role(client, auth):
    ws, _ = _sign_in(auth)
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    membership = _membership(ana, ws)

    response = _post(client, f"/p/settings/users/{membership.id}/role", {"role": "administrator"})

    assert response.status_code == 302
    assert _membership(ana, ws).role == "administrator"


def test_nobody_changes_their_own_role_or_deactivates_themselves(client, auth):
    # So a workspace always keeps an active administrator: the one acting is one.
    ws, admin = _sign_in(auth)
    mine = _membership(admin, ws)

    own = _post(client, f"/p/settings/users/{mine.id}/role", {"role": "manager"}, headers=HTMX)
    deactivate_self = _post(client, f"/p/settings/users/{mine.id}/deactivate")

    assert own.status_code == 409 and "own role" in own.get_data(as_text=True)
    assert own.headers["HX-Reswap"] == "none"
    assert deactivate_self.status_code == 409
    assert _membership(admin, ws).role == "administrator"


def test_deactivating_someone_ends_their_open_session_and_reactivating_restores_it(
    client, auth, app
):
    ws, _ = _sign_in(auth)
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    other_client = app.test_client()
    _forget_signed_in_user()
    AuthActions(other_client).login(ana.email)
    assert other_client.get("/p/").status_code == 200
    _forget_signed_in_user()

    response = _post(
        client, f"/p/settings/users/{_membership(ana, ws).id}/deactivate", headers=HTMX
    )

    assert response.status_code == 200 and "is deactivated" in response.get_data(as_text=True)
    assert _membership(ana, ws).active is False
    _forget_signed_in_user()
    ended = other_client.get("/p/")  # their open session ends: no workspace is left to them
    assert ended.status_code == 302 and ended.headers["Location"].startswith("/login")
    _forget_signed_in_user()
    assert other_client.get("/p/").status_code == 302  # signed out, not just turned away once
    _forget_signed_in_user()
    reactivated = _post(client, f"/p/settings/users/{_membership(ana, ws).id}/activate")
    assert reactivated.status_code == 302
    assert _membership(ana, ws).active is True
    _forget_signed_in_user()
    assert AuthActions(other_client).login(ana.email).status_code == 302


def test_deactivating_someone_of_other_workspaces_too_leaves_those_open(client, auth, app):
    ws, _ = _sign_in(auth)
    elsewhere = factories.workspace("Elsewhere")
    ana = factories.user(elsewhere, email="ana@example.com")
    membership = Membership(user_id=ana.id, workspace_id=ws.id, role=Role.MANAGER)
    db.session.add(membership)
    db.session.commit()

    response = _post(client, f"/p/settings/users/{membership.id}/deactivate")

    assert response.status_code == 302
    assert _membership(ana, ws).active is False
    assert _membership(ana, elsewhere).active is True
    _forget_signed_in_user()
    ana_client = app.test_client()
    assert AuthActions(ana_client).login(ana.email).status_code == 302
    _forget_signed_in_user()
    page = ana_client.get("/p/").get_data(as_text=True)
    assert "Elsewhere" in page and ws.name not in page
    _forget_signed_in_user()
    token = csrf_token(ana_client, "/p/")
    assert ana_client.post(f"/p/workspace/{ws.id}", data={"csrf_token": token}).status_code == 404


def test_memberships_of_another_workspace_are_not_found(client, auth):
    _sign_in(auth)
    other = factories.workspace()
    eve = factories.user(other, email="eve@example.com")
    membership = _membership(eve, other)

    for action, data in (("role", {"role": "manager"}), ("deactivate", {}), ("activate", {})):
        assert _post(client, f"/p/settings/users/{membership.id}/{action}", data).status_code == 404
    assert _membership(eve, other).active and _membership(eve, other).role == "administrator"
