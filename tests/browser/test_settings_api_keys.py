"""API keys in Chromium: a new key's secret is shown once, with a copy button; reload: gone."""

from __future__ import annotations

import hashlib

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import ApiKey
from tests import factories


def test_a_new_api_keys_secret_is_shown_once(page: Page, live_server: str):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Website backend")
    page.get_by_role("button", name="Create key").click()

    secret_box = page.locator("#new-secret-value")
    expect(secret_box).to_contain_text("lsk_")
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    secret = secret_box.inner_text().strip()
    expect(page.locator("table")).to_contain_text("Website backend")
    db.session.rollback()  # the server wrote from its own thread
    key = db.session.scalar(db.select(ApiKey).filter_by(workspace_id=ws.id))
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert page.url == f"{live_server}/p/settings/api-keys"

    page.reload()
    expect(page.locator("table")).to_contain_text("Website backend")
    expect(page.locator("#new-secret-value")).to_have_count(0)
    assert secret not in page.content()
    assert errors == [], errors
