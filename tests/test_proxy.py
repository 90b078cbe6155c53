"""Behind a reverse proxy, the client's address comes from X-Forwarded-For, when trusted."""

from __future__ import annotations

from leadsite import create_app


def _remote_addr(app) -> str:
    @app.get("/_whoami")
    def whoami() -> str:
        from flask import request

        return request.remote_addr or ""

    return (
        app.test_client()
        .get("/_whoami", headers={"X-Forwarded-For": "203.0.113.9"})
        .get_data(as_text=True)
    )


def test_forwarded_for_is_ignored_without_trusted_proxies():
    assert _remote_addr(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})) == "127.0.0.1"


def test_forwarded_for_is_used_with_one_trusted_proxy():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_PROXIES": 1})
    assert _remote_addr(app) == "203.0.113.9"
