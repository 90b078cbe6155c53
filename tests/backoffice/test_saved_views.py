"""Saved views of the leads list: filters, sort and columns under a name, per user, shared
with the workspace when asked; only their author deletes them."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Role, SavedView
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
ARRANGED = {"status": "new", "tag": "vip", "sort": "-email", "cols": "1", "col": ["email"]}


def _save(client, htmx: bool = True, **form):
    data = {"csrf_token": csrf_token(client, "/p/leads"), **form}
    return client.post("/p/leads/views", data=data, headers=HTMX if htmx else None)


def _member(auth, ws, role: Role = Role.MANAGER):
    user = factories.user(ws, role=role)
    auth.login(user.email)
    return user


def test_saving_keeps_filters_sort_and_columns_and_links_to_them(client, auth):
    ws = factories.workspace()
    user = _member(auth, ws)

    response = _save(client, name="VIP newcomers", **ARRANGED)

    body = response.get_data(as_text=True)
    view = db.session.scalar(db.select(SavedView))
    assert response.status_code == 200 and body.lstrip().startswith('<nav id="saved-views"')
    assert (view.user_id, view.name, view.shared) == (user.id, "VIP newcomers", False)
    assert (view.filters, view.sort, view.columns) == (
        {"status": "new", "tag": "vip"},
        "-email",
        ["email"],
    )
    link = "/p/leads?status=new&amp;tag=vip&amp;sort=-email&amp;cols=1&amp;col=email"
    assert f'<a href="{link}" data-focus-on-swap>VIP newcomers</a>' in body
    assert "View “VIP newcomers” saved." in body


def test_without_javascript_saving_goes_back_to_the_saved_list(client, auth):
    _member(auth, factories.workspace())

    response = _save(client, htmx=False, name="Mine", sort="name")

    assert response.status_code == 303
    assert response.headers["Location"] == "/p/leads?sort=name"


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Give the view a name."), ("x" * 81, "Name must be at most 80 characters.")],
)
def test_a_view_needs_a_short_name(client, auth, name, message):
    _member(auth, factories.workspace())

    response = _save(client, name=name)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(SavedView)) is None


def test_a_view_is_private_unless_shared(client, auth):
    ws = factories.workspace()
    _member(auth, ws)
    _save(client, name="Private one")
    _save(client, name="Team one", shared="1")
    auth.logout()
    _member(auth, ws)  # a colleague

    body = client.get("/p/leads").get_data(as_text=True)

    assert 'Team one</a> <span class="muted">(shared)</span>' in body
    assert "Private one" not in body
    assert 'aria-label="Delete the view Team one"' not in body  # not theirs to delete


def test_only_the_author_deletes_a_view(client, auth):
    ws = factories.workspace()
    _member(auth, ws)
    _save(client, name="Team one", shared="1")
    view = db.session.scalar(db.select(SavedView))
    auth.logout()
    _member(auth, ws)
    token = csrf_token(client, "/p/leads")

    refused = client.post(f"/p/leads/views/{view.id}/delete", data={"csrf_token": token})

    assert refused.status_code == 404
    assert db.session.scalar(db.select(SavedView)) is not None


def test_views_of_another_workspace_are_not_shown(client, auth):
    other = factories.workspace()
    db.session.add(SavedView(workspace_id=other.id, name="Elsewhere", shared=True))
    db.session.commit()
    _member(auth, factories.workspace())

    assert "Elsewhere" not in client.get("/p/leads").get_data(as_text=True)


def test_a_view_of_held_leads_is_saved_and_brings_them_back(client, auth):
    ws = factories.workspace()
    _member(auth, ws)
    factories.lead(ws, email="held@example.com", held=True)
    listed = client.get("/p/leads", query_string={"held": "true"}).get_data(as_text=True)

    _save(client, name="Held", held="true")

    view = db.session.scalar(db.select(SavedView))
    assert 'name="held" value="True"' in listed and "held@example.com" in listed
    assert view.filters == {"held": True}
    body = client.get("/p/leads").get_data(as_text=True)
    assert '<a href="/p/leads?held=True">Held</a>' in body
    assert "held@example.com" in client.get("/p/leads?held=True").get_data(as_text=True)
