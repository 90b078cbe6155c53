"""Idempotency keys replay the first answer; CORS lets only an origin's allowed sites in."""

from __future__ import annotations

import pytest

from leadsite.api.cors import origin_allowed
from leadsite.extensions import db
from leadsite.models import Lead


def _lead_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Lead))


def test_a_repeat_with_the_same_key_and_body_returns_the_first_answer(api):
    headers = {"Idempotency-Key": "order-1"}
    first = api.register({"email": "i@example.com"}, headers=headers)
    second = api.register({"email": "i@example.com"}, headers=headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json == first.json
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _lead_count() == 1
    assert db.session.scalar(db.select(Lead.counter)) == 1  # registered once


def test_the_same_key_with_another_body_is_422(api):
    headers = {"Idempotency-Key": "order-2"}
    api.register({"email": "a@example.com"}, headers=headers)

    response = api.register({"email": "b@example.com"}, headers=headers)

    assert response.status_code == 422
    assert response.json["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert _lead_count() == 1


def test_an_error_answer_is_replayed_too(api):
    headers = {"Idempotency-Key": "bad-1"}
    first = api.register({"email": "nope"}, headers=headers)
    api.funnel.status = "ended"
    db.session.commit()

    second = api.register({"email": "nope"}, headers=headers)

    assert first.status_code == second.status_code == 422


def test_without_a_key_each_request_counts(api):
    api.register({"email": "twice@example.com"})
    api.register({"email": "twice@example.com"})

    assert db.session.scalar(db.select(Lead.counter)) == 2


@pytest.mark.parametrize(
    ("origin", "patterns", "allowed"),
    [
        ("https://shop.example.com", ["https://shop.example.com"], True),
        ("https://shop.example.com", ["https://*.example.com"], True),
        ("https://a.b.example.com", ["https://*.example.com"], True),
        ("http://shop.example.com", ["https://shop.example.com"], False),
        ("https://evil.com", ["https://*.example.com"], False),
        ("https://example.com.evil.com", ["https://*.example.com"], False),
        ("http://localhost:5173", ["http://localhost:*"], True),
        ("http://localhost", ["http://localhost:*"], False),
        ("http://127.0.0.1:8000", ["http://localhost:*", "http://127.0.0.1:*"], True),
        ("https://shop.example.com", [], False),
    ],
)
def test_allowed_domain_patterns(origin, patterns, allowed):
    assert origin_allowed(origin, patterns) is allowed


def test_a_preflight_from_an_allowed_site_is_answered(api):
    response = api.client.options(
        f"/api/v1/leads?ref={api.origin.ref}",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Origin" in response.headers["Vary"]


def test_a_post_from_an_allowed_site_carries_the_cors_header(api):
    response = api.register(
        {"email": "c@example.com"}, headers={"Origin": "https://shop.example.com"}
    )

    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"


def test_another_site_gets_no_cors_headers(api):
    preflight = api.client.options(
        f"/api/v1/leads?ref={api.origin.ref}",
        headers={"Origin": "https://evil.example.net", "Access-Control-Request-Method": "POST"},
    )
    post = api.register({"email": "e@example.com"}, headers={"Origin": "https://evil.example.net"})

    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in post.headers
