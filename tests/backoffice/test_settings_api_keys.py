"""Settings, API keys: the secret is shown once and stored only as its SHA-256; revoking."""

from __future__ import annotations

import hashlib
import re

import pytest

from leadsite.extensions import db
from leadsite.models import ApiKey, OriginKind, Workspace, utcnow
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
SECRET = re.compile(r"lsk_[A-Za-z0-9_-]{20,}")
ALL = ["leads:write", "leads:read", "admin"]


def _sign_in(auth, ws: Workspace | None = None) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws).email)
    return ws


def _post(client, path: str, data: dict[str, str] | None = None, **kwargs: object):
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def _keys(ws: Workspace) -> list[ApiKey]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(ApiKey).filter_by(workspace_id=ws.id)))


def test_the_page_is_whole_without_htmx_and_a_block_with_it(client, auth):
    ws = _sign_in(auth)
    factories.api_key(ws)

    full = client.get("/p/settings/api-keys")
    partial = client.get("/p/settings/api-keys", headers=HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True) and "Test key" in full.get_data(as_text=True)
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="api-keys"') and "<html" not in body
    assert "never" in body  # not used yet


def test_a_new_key_is_shown_once_and_stored_hashed(client, auth):
    ws = _sign_in(auth)

    response = _post(
        client, "/p/settings/api-keys", {"name": "Website backend", "scopes": ALL}, headers=HTMX
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="api-keys"')
    [secret] = SECRET.findall(body)
    [key] = _keys(ws)
    assert key.name == "Website backend" and secret.startswith(key.prefix)
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in key.secret_hash and key.created_by_id is not None
    assert "it will not be shown again" in body and 'data-copy="#new-secret-value"' in body
    again = client.get("/p/settings/api-keys").get_data(as_text=True)
    assert secret not in again and f"{key.prefix}…" in again
    assert (
        client.get("/api/v1/funnels", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )


def test_without_javascript_the_answer_is_the_page_with_the_secret(client, auth):
    _sign_in(auth)

    response = _post(client, "/p/settings/api-keys", {"name": "CLI", "scopes": ALL})

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert len(SECRET.findall(body)) == 1
    assert "API key “CLI” created." in body


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "This field is required."), ("  ", "This field is required."), ("x" * 121, "120")],
)
def test_a_key_needs_a_name(client, auth, name, message):
    ws = _sign_in(auth)

    response = _post(client, "/p/settings/api-keys", {"name": name}, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="api-key-form"') and message in body
    assert _keys(ws) == []


def test_revoking_a_key_stops_it_and_keeps_it_listed(client, auth):
    ws = _sign_in(auth)
    secret = factories.api_key(ws)
    [key] = _keys(ws)

    response = _post(client, f"/p/settings/api-keys/{key.id}/revoke", headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "API key “Test key” revoked." in body
    assert "revoked" in body and f"/p/settings/api-keys/{key.id}/revoke" not in body
    assert _keys(ws)[0].revoked_at is not None
    assert (
        client.get("/api/v1/funnels", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    plain = _post(client, f"/p/settings/api-keys/{key.id}/revoke")
    assert plain.status_code == 302 and plain.headers["Location"] == "/p/settings/api-keys"


def test_the_last_use_is_shown(client, auth):
    ws = _sign_in(auth)
    factories.api_key(ws)
    [key] = _keys(ws)
    key.last_used_at = utcnow()
    db.session.commit()

    body = client.get("/p/settings/api-keys").get_data(as_text=True)

    assert f'<time datetime="{key.last_used_at.isoformat()}">' in body


def test_another_workspaces_key_cannot_be_revoked_or_seen(client, auth):
    ws = _sign_in(auth)
    other = factories.workspace()
    factories.api_key(other)
    [theirs] = _keys(other)

    assert _post(client, f"/p/settings/api-keys/{theirs.id}/revoke").status_code == 404
    assert theirs.id not in client.get("/p/settings/api-keys").get_data(as_text=True)
    assert _keys(other)[0].revoked_at is None and _keys(ws) == []


def test_a_secret_key_gets_the_scopes_chosen_and_shows_them(client, auth):
    ws = _sign_in(auth)

    response = _post(
        client, "/p/settings/api-keys", {"name": "Reporting", "scopes": ["leads:read"]}
    )

    [secret] = SECRET.findall(response.get_data(as_text=True))
    [key] = _keys(ws)
    assert key.scope_list == ["leads:read"] and not key.publishable
    listed = client.get("/p/settings/api-keys").get_data(as_text=True)
    assert 'secret</span><span class="cell-help">leads:read</span>' in listed
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/leads", headers=bearer).status_code == 200
    assert client.post("/api/v1/data-points", headers=bearer, json={}).status_code == 403


def test_a_secret_key_needs_a_scope(client, auth):
    ws = _sign_in(auth)

    response = _post(client, "/p/settings/api-keys", {"name": "Nothing"}, headers=HTMX)

    assert response.status_code == 422
    assert "Choose at least one scope." in response.get_data(as_text=True)
    assert _keys(ws) == []


def test_a_publishable_key_is_bound_to_the_origins_chosen(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, name="Spring")
    shop = factories.origin(funnel, OriginKind.API, allowed_domains=["https://shop.example"])

    response = _post(
        client,
        "/p/settings/api-keys",
        {"name": "Shop page", "kind": "publishable", "origin_ids": [shop.id]},
        headers=HTMX,
    )

    body = response.get_data(as_text=True)
    [key] = _keys(ws)
    assert response.status_code == 200 and key.publishable and key.origin_ids == [shop.id]
    assert key.scope_list == ["leads:write"] and key.token.startswith("lpk_")
    assert key.token in body and "publishable" in body
    listed = client.get("/p/settings/api-keys").get_data(as_text=True)
    assert key.token in listed and "registers through api origin" in listed


def test_a_publishable_key_needs_an_origin_with_allowed_sites(client, auth):
    ws = _sign_in(auth)
    closed = factories.origin(factories.funnel(ws), OriginKind.API)

    nothing = _post(
        client, "/p/settings/api-keys", {"name": "Page", "kind": "publishable"}, headers=HTMX
    )
    no_sites = _post(
        client,
        "/p/settings/api-keys",
        {"name": "Page", "kind": "publishable", "origin_ids": [closed.id]},
        headers=HTMX,
    )

    assert nothing.status_code == no_sites.status_code == 422
    assert "Choose the API origins it registers through." in nothing.get_data(as_text=True)
    assert "no allowed sites yet" in no_sites.get_data(as_text=True)
    assert _keys(ws) == []
