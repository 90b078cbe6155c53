"""Staff translate a form in the back-office in Chromium (htmx, and with JavaScript off), and
the page speaks it. Screenshots at 390 px and 1280 px go to SHOTS_DIR (or a temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from leadsite.models import OriginKind, Workspace
from tests import factories


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _signed_in(
    browser: Browser, live_server: str, ws: Workspace, width: int, javascript: bool
) -> Page:
    person = factories.user(ws)
    page = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript
    ).new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


@pytest.mark.parametrize(("width", "javascript"), [(390, True), (1280, True), (1280, False)])
def test_staff_translate_a_form_and_its_page_speaks_german(
    browser: Browser, live_server: str, tmp_path: Path, width: int, javascript: bool
):
    ws = factories.workspace("Acme")
    funnel = factories.staged_funnel(ws, name="Beta")
    page = _signed_in(browser, live_server, ws, width, javascript)
    origin = factories.origin(funnel, OriginKind.PAGE, settings={"title": "Join the beta"})
    page.goto(f"{live_server}/p/funnels/edit/{funnel.id}/origins/{origin.id}")

    page.get_by_role("link", name="Language and translations").click()
    page.get_by_label("Language of the form").select_option("de")
    german = page.locator("fieldset", has=page.get_by_text("Deutsch", exact=True))
    german.get_by_label("Title").fill("Machen Sie bei der Beta mit")
    german.get_by_label("Success message").fill("Sie sind dabei.")
    _shot(page, tmp_path, f"i18n-backoffice-{width}-{'js' if javascript else 'nojs'}")
    page.get_by_role("button", name="Save translations").click()

    expect(page.get_by_text("Translations of “page origin” saved.")).to_be_visible()
    expect(german.get_by_label("Title")).to_have_value("Machen Sie bei der Beta mit")
    lead_page = browser.new_context(locale="fr-FR").new_page()
    lead_page.goto(f"{live_server}/r/{origin.ref}")
    expect(lead_page.get_by_role("heading", level=1)).to_have_text("Machen Sie bei der Beta mit")
    expect(lead_page.get_by_role("button", name="Jetzt anmelden")).to_be_visible()
    lead_page.context.close()
    page.context.close()
