"""Activation belongs to the membership: nothing done in one workspace changes access to another
(issue 12: an administrator of B re-enabled a user whom A had deactivated)."""

from __future__ import annotations

from flask import g

from leadsite.extensions import db
from leadsite.models import Membership, Role
from tests import factories
from tests.conftest import AuthActions, csrf_token


def _forget_signed_in_user() -> None:
    """Requests of a test share its app context, where Flask-Login caches the user and
    Flask-WTF the CSRF token: forget both before another client (another person) asks."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _post(client, path: str, data: dict[str, str] | None = None):
    _forget_signed_in_user()
    token = csrf_token(client, "/p/")
    return client.post(path, data={**(data or {}), "csrf_token": token})


def _get(client, path: str):
    _forget_signed_in_user()
    return client.get(path)


def _membership(user_id: str, workspace_id: str) -> Membership:
    db.session.expire_all()
    return db.session.scalar(
        db.select(Membership).filter_by(user_id=user_id, workspace_id=workspace_id)
    )


def test_another_workspace_cannot_give_back_access_that_this_one_took(app):
    alpha, bravo = factories.workspace("Alpha"), factories.workspace("Bravo")
    lead = factories.lead(alpha, email="secret-lead@example.com")
    alpha_admin = factories.user(alpha, email="alpha-admin@example.com")
    bravo_admin = factories.user(bravo, email="bravo-admin@example.com")
    eve = factories.user(alpha, role=Role.MANAGER, email="eve@example.com")
    alpha_client, bravo_client, eve_client = (app.test_client() for _ in range(3))
    for client, person in ((alpha_client, alpha_admin), (bravo_client, bravo_admin)):
        _forget_signed_in_user()
        AuthActions(client).login(person.email)
    _forget_signed_in_user()
    AuthActions(eve_client).login(eve.email)
    assert _get(eve_client, f"/p/leads/{lead.id}").status_code == 200
    old_cookie = eve_client.get_cookie("session").value

    # Alpha deactivates Eve; Bravo adds her email, and she joins Bravo.
    alpha_membership = _membership(eve.id, alpha.id)
    assert (
        _post(alpha_client, f"/p/settings/users/{alpha_membership.id}/deactivate").status_code
        == 302
    )
    db.session.add(Membership(user_id=eve.id, workspace_id=bravo.id, role=Role.MANAGER))
    db.session.commit()
    bravo_membership = _membership(eve.id, bravo.id)
    # Bravo's administrator "activates" her in Bravo, as the administrator did.
    assert (
        _post(bravo_client, f"/p/settings/users/{bravo_membership.id}/activate").status_code == 302
    )

    assert _membership(eve.id, alpha.id).active is False
    # Her old session cookie reaches Bravo only; Alpha's lead is not found from it.
    eve_client.set_cookie("session", old_cookie)
    page = _get(eve_client, "/p/").get_data(as_text=True)
    assert "Bravo" in page and "Alpha" not in page
    assert _get(eve_client, f"/p/leads/{lead.id}").status_code == 404
    assert _post(eve_client, f"/p/workspace/{alpha.id}").status_code == 404
    # Signing in again with her old password changes nothing for Alpha.
    fresh = app.test_client()
    _forget_signed_in_user()
    assert AuthActions(fresh).login(eve.email).status_code == 302
    assert _get(fresh, f"/p/leads/{lead.id}").status_code == 404
    assert "secret-lead@example.com" not in _get(fresh, "/p/leads").get_data(as_text=True)


def test_a_deactivated_member_is_not_offered_as_an_assignee(client, auth):
    ws = factories.workspace()
    admin = factories.user(ws, email="admin@example.com")
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    auth.login(admin.email)
    _membership(ana.id, ws.id).active = False
    db.session.commit()

    form = _get(
        client,
        f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new?kind=staff_task",
    )

    body = form.get_data(as_text=True)
    assert form.status_code == 200 and "admin@example.com" in body
    assert "ana@example.com" not in body
