"""Deactivating an administrator in Chromium (htmx): the answer says what went with them, Users
lists the invitations they sent as withdrawn and API keys their keys as made by someone
deactivated, on a wide screen (1280 px) and a phone (390 px) without the page scrolling
sideways. Screenshots go to SHOTS_DIR (or a temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from leadsite import accounts
from leadsite.access import invitations
from leadsite.extensions import db
from leadsite.models import Role
from tests import factories
from tests.browser.test_leads_inline import _sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True, caret="initial")


def test_a_deactivated_administrators_invitations_and_keys_show_their_state(
    browser: Browser, live_server: str, tmp_path: Path
):
    ws = factories.workspace("Acme")
    admin = factories.user(ws, email="admin@acme.example")
    ana = factories.user(ws, email="ana@acme.example")
    invitations.invite(ws, "newcomer@acme.example", Role.MANAGER, ana)
    accounts.create_api_key(ws, "CRM sync", created_by=ana)
    db.session.commit()
    wide = browser.new_context(viewport=DESKTOP).new_page()
    _sign_in(wide, live_server, admin, "/p/settings/users")
    wide.on("dialog", lambda dialog: dialog.accept())  # "Deactivate ana@…? They lose access"

    wide.get_by_role("button", name="Deactivate ana@acme.example").click()

    flash = wide.locator("#flash")
    expect(flash).to_contain_text("ana@acme.example is deactivated")
    expect(flash).to_contain_text("1 invitation they sent withdrawn.")
    withdrawn = wide.get_by_role("table", name="Invitations withdrawn with their sender")
    expect(withdrawn).to_contain_text("newcomer@acme.example")
    expect(withdrawn).to_contain_text("sent by ana@acme.example (deactivated)")
    expect(wide.get_by_text("Invitations not yet accepted")).to_have_count(0)
    _shot(wide, tmp_path, "users-1280")
    wide.goto(f"{live_server}/p/settings/api-keys")
    expect(wide.locator("table")).to_contain_text("by ana@acme.example (deactivated)")
    _shot(wide, tmp_path, "api-keys-1280")

    phone = browser.new_context(viewport=PHONE).new_page()
    _sign_in(phone, live_server, admin, "/p/settings/users")
    expect(phone.get_by_text("sent by ana@acme.example (deactivated)")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    _shot(phone, tmp_path, "users-390")
    phone.goto(f"{live_server}/p/settings/api-keys")
    # The first column, which a phone shows without scrolling, says it too.
    expect(phone.get_by_text("its maker is deactivated")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    _shot(phone, tmp_path, "api-keys-390")
    wide.context.close()
    phone.context.close()
