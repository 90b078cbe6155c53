"""The API's rate limits come from settings read at each request: a changed setting takes
effect at the next one, with the same `X-RateLimit-*` headers and 429 envelope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask


@pytest.fixture
def settings(app: Flask) -> Iterator[dict]:
    kept = {name: app.config[name] for name in ("API_RATE_LIMIT", "API_IP_RATE_LIMIT")}
    yield app.config
    app.config.update(kept)


def _funnels(api) -> list[tuple[int, str | None]]:
    response = api.get("/api/v1/funnels")
    return response.status_code, response.headers.get("X-RateLimit-Limit")


def test_a_changed_key_limit_takes_effect_at_the_next_request(api, settings):
    settings["API_RATE_LIMIT"] = "2 per minute"
    first = [_funnels(api) for _ in range(3)]
    settings["API_RATE_LIMIT"] = "3 per minute"  # another window: counted afresh
    second = [_funnels(api) for _ in range(4)]
    settings["API_RATE_LIMIT"] = "2 per minute"  # the first again, its count kept
    third = _funnels(api)

    assert first == [(200, "2"), (200, "2"), (429, "2")]
    assert second == [(200, "3"), (200, "3"), (200, "3"), (429, "3")]
    assert third == (429, "2")


def test_a_changed_address_limit_takes_effect_at_the_next_request(api, settings):
    settings["API_IP_RATE_LIMIT"] = "1 per day"
    first = [_funnels(api)[0] for _ in range(2)]
    settings["API_IP_RATE_LIMIT"] = "1000 per day"
    second = _funnels(api)[0]

    assert first == [200, 429]
    assert second == 200


def test_a_429_keeps_its_envelope_and_headers(api, settings):
    settings["API_RATE_LIMIT"] = "1 per minute"
    api.register({"email": "first@example.com"})
    limited = api.register({"email": "second@example.com"})

    assert limited.status_code == 429
    assert limited.json["code"] == "RATE_LIMITED"
    assert limited.headers["X-RateLimit-Limit"] == "1"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert int(limited.headers["X-RateLimit-Reset"]) > 0
    assert 0 < int(limited.headers["Retry-After"]) <= 61


def test_a_preflight_is_not_counted(api, settings):
    settings["API_RATE_LIMIT"] = "1 per day"
    preflights = [
        api.client.options(
            "/api/v1/leads",
            headers={
                "Origin": "https://shop.example.com",
                "Access-Control-Request-Method": "POST",
            },
        ).status_code
        for _ in range(3)
    ]

    assert 429 not in preflights
    assert _funnels(api)[0] == 200
