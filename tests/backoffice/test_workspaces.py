"""A user sees only the current workspace's data, and can switch only to their own."""

from __future__ import annotations

from tests import factories
from tests.conftest import csrf_token


def _lead_count(body: str) -> str:
    return body.split('class="stat-value">', 1)[1].split("<", 1)[0]


def test_a_user_of_workspace_a_cannot_see_workspace_b(client, auth):
    a, b = factories.workspace("Alpha"), factories.workspace("Bravo")
    factories.lead(a)
    for _ in range(3):
        factories.lead(b)
    person = factories.user(a)
    auth.login(person.email)

    body = client.get("/p/").get_data(as_text=True)
    assert "Alpha" in body and "Bravo" not in body
    assert _lead_count(body) == "1"

    token = csrf_token(client, "/p/")
    switch = client.post(f"/p/workspace/{b.id}", data={"csrf_token": token})
    assert switch.status_code == 404
    assert "Bravo" not in client.get("/p/").get_data(as_text=True)


def test_a_member_of_two_workspaces_switches_between_them(client, auth):
    a, b = factories.workspace("Alpha"), factories.workspace("Bravo")
    person = factories.user(a)
    factories.user(b, email=person.email)  # same person, second membership
    factories.lead(b)
    auth.login(person.email)
    token = csrf_token(client, "/p/")

    response = client.post(
        f"/p/workspace/{b.id}", data={"csrf_token": token}, follow_redirects=True
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Bravo" in body.split("<main", 1)[1]
    assert _lead_count(body) == "1"


def test_dashboard_renders_a_block_for_htmx(client, auth):
    auth.login(factories.user().email)

    full = client.get("/p/")
    partial = client.get("/p/", headers={"HX-Request": "true"})

    assert "<html" in full.get_data(as_text=True)
    body = partial.get_data(as_text=True)
    assert "<html" not in body and "Dashboard" in body
    assert 'id="flash"' in body and 'hx-swap-oob="true"' in body
    assert "HX-Request" in partial.headers["Vary"]
