"""Every response carries the security headers; cookies are HttpOnly and SameSite."""

from __future__ import annotations

import re

import pytest

from leadsite import create_app
from tests import factories


@pytest.mark.parametrize("path", ["/login", "/healthz", "/p/", "/nowhere", "/static/css/app.css"])
def test_every_response_has_the_security_headers(client, path):
    response = client.get(path)
    response.close()  # static files are streamed from disk

    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert re.search(r"script-src 'self' 'nonce-[\w-]+'", csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script_and_load_htmx_from_this_site(client):
    body = client.get("/login").get_data(as_text=True)

    scripts = re.findall(r"<script[^>]*>", body)
    assert scripts, "the page should load htmx"
    assert all('src="/static/' in tag for tag in scripts)
    assert "/static/vendor/htmx-4.0.1.min.js" in body
    assert "hx-headers:inherited" in body


def test_the_session_cookie_is_httponly_and_samesite_lax(client, auth):
    response = auth.login(factories.user().email)

    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # BASE_URL is http in tests


def test_cookies_are_secure_when_the_base_url_is_https(monkeypatch):
    monkeypatch.setenv("BASE_URL", "https://leads.example.com")
    secure_app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    assert secure_app.config["SESSION_COOKIE_SECURE"] is True
    assert secure_app.config["REMEMBER_COOKIE_SECURE"] is True
