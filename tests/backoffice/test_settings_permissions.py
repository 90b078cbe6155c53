"""Who may open what: managers are refused the workspace settings, users, API keys and
webhooks (403, and no menu for them); they keep the funnels, the dashboard and the mailbox.
An administrator demoted since opening a form is told so when sending it."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.leads import statuses
from leadsite.models import Role
from tests import factories
from tests.conftest import csrf_token

ADMIN_PAGES = [
    "/p/settings/workspace",
    "/p/settings/users",
    "/p/settings/api-keys",
    "/p/settings/webhooks",
]


@pytest.fixture
def manager(auth):
    ws = factories.workspace()
    auth.login(factories.user(ws, role=Role.MANAGER).email)
    return ws


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_a_manager_is_refused_administrator_pages(client, manager, path):
    assert client.get(path).status_code == 403
    assert client.get(path, headers={"HX-Request": "true"}).status_code == 403


def test_a_manager_is_refused_every_administrator_action(client, manager):
    ws = manager
    admin = factories.user(ws)
    endpoint = factories.webhook_endpoint(ws)
    message_id = factories.endpoint_attempt(endpoint).message_id
    factories.api_key(ws)
    key_id = ws.id  # any id: the role is checked before the key is looked up
    membership_id = admin.memberships[0].id
    token = csrf_token(client, "/p/")
    for path in [
        "/p/settings/workspace",
        "/p/settings/users",
        f"/p/settings/users/{membership_id}/role",
        f"/p/settings/users/{membership_id}/deactivate",
        f"/p/settings/users/{membership_id}/activate",
        "/p/settings/api-keys",
        f"/p/settings/api-keys/{key_id}/revoke",
        "/p/settings/webhooks",
        f"/p/settings/webhooks/{endpoint.id}",
        f"/p/settings/webhooks/{endpoint.id}/active",
        f"/p/settings/webhooks/{endpoint.id}/rotate-secret",
        f"/p/settings/webhooks/{endpoint.id}/messages/{message_id}/redeliver",
        "/p/settings/webhook-secret/rotate",
    ]:
        response = client.post(path, data={"csrf_token": token, "role": "manager", "name": "x"})
        assert response.status_code == 403, path


def test_a_manager_sees_no_settings_menu_but_keeps_the_rest(client, manager):
    ws = manager
    funnel = factories.funnel(ws)

    home = client.get("/p/")
    nav = home.get_data(as_text=True).split("</nav>")[0]

    assert home.status_code == 200 and ">Settings</a>" not in nav
    assert client.get("/p/funnels").status_code == 200
    assert client.get(f"/p/funnels/edit/{funnel.id}").status_code == 200
    mailbox = client.get("/p/settings/mailbox").get_data(as_text=True)
    subnav = mailbox.split('aria-label="Settings"')[1].split("</nav>")[0]
    assert ">Mailbox</a>" in subnav and ">Users</a>" not in subnav and ">API keys</a>" not in subnav
    assert client.get("/p/settings/").headers["Location"] == "/p/settings/mailbox"


def test_an_administrator_sees_every_settings_page(client, auth):
    auth.login(factories.user().email)

    page = client.get("/p/settings/users").get_data(as_text=True)

    subnav = page.split('aria-label="Settings"')[1].split("</nav>")[0]
    for label in ("Workspace", "Users", "API keys", "Webhooks", "Mailbox"):
        assert f">{label}</a>" in subnav
    assert 'href="/p/settings/users" aria-current="page"' in subnav
    assert client.get("/p/settings/").headers["Location"] == "/p/settings/workspace"


@pytest.mark.parametrize("htmx", [False, True])
def test_an_administrator_demoted_since_opening_a_form_is_told_so(client, auth, htmx):
    ws = factories.workspace("Acme")
    admin = factories.user(ws)
    auth.login(admin.email)
    token = csrf_token(client, "/p/settings/statuses")
    membership = admin.memberships[0]
    membership.role = Role.MANAGER  # by another administrator, while the form was open
    db.session.commit()

    response = client.post(
        "/p/settings/statuses",
        data={"csrf_token": token, "name": "Call back", "colour": "#123456"},
        headers={"HX-Request": "true"} if htmx else {},
    )

    assert response.status_code == 403
    assert "You are no longer an administrator of Acme: nothing was changed." in response.text
    assert "call_back" not in statuses.keys(ws.id)
