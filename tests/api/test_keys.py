"""Publishable keys only register, from their origins' sites; secret keys hold scopes and stay
out of web pages."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from leadsite import accounts
from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.api.conftest import ApiWorld
from tests.test_migrations import OLD_WORKSPACE, upgraded_from

SHOP = "https://shop.example.com"  # the `api` fixture's origin allows it
BODY = {"email": "visitor@example.com"}


def _publishable(api: ApiWorld, *origins: Any) -> str:
    key = accounts.create_publishable_key(
        api.workspace, "Shop page", [origin.id for origin in origins or (api.origin,)]
    )
    db.session.commit()
    return key.token


def _call(api: ApiWorld, method: str, path: str, key: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return api.client.open(path, method=method, headers=headers, **kwargs)


def _leads() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Lead))


def test_a_publishable_key_registers_from_an_allowed_site(api):
    token = _publishable(api)

    response = api.register(BODY, headers={"Authorization": f"Bearer {token}", "Origin": SHOP})

    assert token.startswith("lpk_")
    assert response.status_code == 201 and response.json["data"]["email"] == BODY["email"]
    assert response.headers["Access-Control-Allow-Origin"] == SHOP


@pytest.mark.parametrize(
    ("origin_header", "fragment"),
    [(None, "from no web page"), ("https://evil.example", "from https://evil.example")],
)
def test_a_publishable_key_is_refused_from_anywhere_else(api, origin_header, fragment):
    token = _publishable(api)
    headers = {"Authorization": f"Bearer {token}"}
    if origin_header:
        headers["Origin"] = origin_header

    response = api.register(BODY, headers=headers)

    assert response.status_code == 403
    assert response.json["code"] == "ORIGIN_NOT_ALLOWED" and fragment in response.json["error"]
    assert _leads() == 0


def test_a_publishable_key_works_only_through_the_origins_it_is_bound_to(api):
    other = factories.origin(api.funnel, OriginKind.API, allowed_domains=[SHOP])
    token = _publishable(api)

    response = api.register(
        BODY, ref=other.ref, headers={"Authorization": f"Bearer {token}", "Origin": SHOP}
    )

    assert response.status_code == 403 and response.json["code"] == "ORIGIN_NOT_ALLOWED"
    assert "not bound to this API origin" in response.json["error"]
    assert _leads() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/leads"),
        ("GET", "/api/v1/funnels"),
        ("GET", "/api/v1/data-points"),
        ("POST", "/api/v1/webhooks"),
        ("DELETE", "/api/v1/leads/LEAD"),
        ("PATCH", "/api/v1/leads/LEAD"),
    ],
)
def test_a_publishable_key_can_do_nothing_else(api, method, path):
    lead = factories.lead(api.workspace, email="known@example.com")
    token = _publishable(api)

    response = _call(
        api,
        method,
        path.replace("LEAD", lead.id),
        token,
        headers={"Origin": SHOP},
        json={"url": "https://hooks.example.com", "first_name": "X"},
    )

    assert response.status_code == 403 and response.json["code"] == "INSUFFICIENT_SCOPE"
    assert "can only register leads" in response.json["error"]
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).email == "known@example.com"


def test_a_publishable_key_is_rate_limited_per_visitor(api, app: Flask):
    app.config["PUBLIC_FORM_RATE_LIMIT"] = "2 per day"
    token = _publishable(api)
    headers = {"Authorization": f"Bearer {token}", "Origin": SHOP}

    def register(n: int, ip: str) -> int:
        return api.register(
            {"email": f"v{n}@example.com"}, headers=headers, environ_base={"REMOTE_ADDR": ip}
        ).status_code

    try:
        answers = [register(n, "203.0.113.7") for n in range(3)]
        other_visitor = register(3, "203.0.113.8")
    finally:
        app.config["PUBLIC_FORM_RATE_LIMIT"] = "20 per minute"

    assert answers == [201, 201, 429]
    assert other_visitor == 201


def test_a_secret_key_is_refused_from_a_site_the_origin_does_not_list(api):
    response = api.register(BODY, headers={"Origin": "https://evil.example"})
    listed = api.register(BODY, headers={"Origin": SHOP})

    assert response.status_code == 403 and response.json["code"] == "ORIGIN_NOT_ALLOWED"
    assert "publishable key" in response.json["error"]
    assert listed.status_code == 201


def test_a_secret_key_is_refused_from_any_web_page_but_ours_elsewhere(api):
    foreign = _call(api, "GET", "/api/v1/leads", api.key, headers={"Origin": SHOP})
    # Our own pages (the API docs' "Try it out") send our origin.
    ours = _call(api, "GET", "/api/v1/leads", api.key, headers={"Origin": "http://localhost"})
    server = _call(api, "GET", "/api/v1/leads", api.key)

    assert foreign.status_code == 403 and foreign.json["code"] == "ORIGIN_NOT_ALLOWED"
    assert ours.status_code == server.status_code == 200


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        (["leads:write"], {"register", "erase"}),
        (["leads:read"], {"list", "funnels"}),
        (["admin"], {"webhook"}),
        (["leads:read", "admin"], {"list", "funnels", "webhook"}),
    ],
)
def test_a_secret_key_does_what_its_scopes_allow(api, scopes, allowed):
    _, secret = accounts.create_api_key(api.workspace, "Narrow", scopes=scopes)
    lead = factories.lead(api.workspace)
    db.session.commit()
    calls = {
        "register": ("POST", f"/api/v1/leads?ref={api.origin.ref}", {"json": BODY}),
        "erase": ("DELETE", f"/api/v1/leads/{lead.id}", {}),
        "list": ("GET", "/api/v1/leads", {}),
        "funnels": ("GET", "/api/v1/funnels", {}),
        "webhook": ("POST", "/api/v1/webhooks", {"json": {"url": "https://hooks.example.com"}}),
    }

    answers = {name: _call(api, m, path, secret, **kw) for name, (m, path, kw) in calls.items()}

    assert {name for name, r in answers.items() if r.status_code < 300} == allowed
    for name in calls.keys() - allowed:
        assert answers[name].status_code == 403, name
        assert answers[name].json["code"] == "INSUFFICIENT_SCOPE"
        assert "lacks the" in answers[name].json["error"]


def test_the_openapi_document_names_each_operations_scope(client):
    doc = client.get("/api/v1/openapi.json").json
    paths = doc["paths"]

    assert paths["/api/v1/leads"]["post"]["security"] == [
        {"bearerAuth": ["leads:write"]},
        {"publishableKey": []},
    ]
    assert paths["/api/v1/leads"]["get"]["security"] == [{"bearerAuth": ["leads:read"]}]
    assert paths["/api/v1/webhooks"]["post"]["security"] == [{"bearerAuth": ["admin"]}]
    assert "403" in paths["/api/v1/leads"]["get"]["responses"]
    assert {"bearerAuth", "publishableKey"} <= set(doc["components"]["securitySchemes"])


def test_keys_made_before_scopes_keep_full_access(tmp_path):
    key = (
        "INSERT INTO api_keys (id, workspace_id, name, prefix, secret_hash, created_at) "
        "VALUES ('key_1', 'ws_1', 'Old key', 'lsk_x', 'h', '2026-01-01')"
    )

    [row] = upgraded_from(
        tmp_path, "0003", [OLD_WORKSPACE, key], "SELECT scopes, publishable FROM api_keys"
    )

    assert row.scopes.split() == ["leads:write", "leads:read", "admin"]
    assert not row.publishable
