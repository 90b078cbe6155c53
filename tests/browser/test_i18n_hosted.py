"""The hosted page in German in Chromium: a German browser on an origin that follows the
browser's language, errors swapped in German, the lead registered in German. Screenshots at
390 px and 1280 px go to SHOTS_DIR (or the test's temporary folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from leadsite.extensions import db
from leadsite.models import Lead
from tests.browser.test_public_hosted import axe_violations, page_origin

TRANSLATIONS = {
    "de": {
        "title": "Machen Sie bei der Beta mit",
        "intro": "Zwei Minuten, nicht mehr.",
        "consent": "Schicken Sie mir E-Mails zur Beta.",
        "fields": {"data.plan": "Tarif", "data.seats": "Plätze", "data.student": "Ich studiere"},
        "help": {"phone": "Mit der Landesvorwahl, z. B. +49."},
    }
}


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def german(browser: Browser) -> Iterator[Browser]:
    """Chromium as a German reader has it: its Accept-Language asks for German first."""
    contexts = []

    def open_page(width: int, javascript: bool = True, bypass_csp: bool = False) -> Page:
        context = browser.new_context(
            locale="de-DE",
            viewport={"width": width, "height": 900},
            java_script_enabled=javascript,
            bypass_csp=bypass_csp,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _origin():
    from tests.browser.test_public_hosted import SETTINGS

    return page_origin(settings={**SETTINGS, "language": "browser", "translations": TRANSLATIONS})


@pytest.mark.parametrize("width", [390, 1280])
def test_a_german_browser_gets_the_hosted_page_in_german(
    german, live_server: str, quick_forms: None, tmp_path: Path, width: int
):
    origin = _origin()
    page = german(width)
    page.goto(f"{live_server}/r/{origin.ref}")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Machen Sie bei der Beta mit")).to_be_visible()
    expect(page.get_by_label("Vorname")).to_be_visible()
    expect(page.get_by_text("Mit der Landesvorwahl, z. B. +49.")).to_be_visible()
    expect(page.get_by_role("button", name="Jetzt anmelden")).to_be_visible()
    _shot(page, tmp_path, f"i18n-hosted-de-{width}")

    page.wait_for_timeout(400)
    page.get_by_role("button", name="Jetzt anmelden").click()  # errors swap in, in German
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Es gibt ein Problem")
    expect(summary).to_contain_text("Bitte füllen Sie „Vorname“ aus")
    expect(summary).to_contain_text("Bitte wählen Sie bei „Tarif“ etwas aus")
    _shot(page, tmp_path, f"i18n-hosted-de-errors-{width}")

    page.get_by_label("Vorname").fill("Ada")
    page.locator("#f-email").fill(f"ada{width}@example.com")
    page.get_by_label("Team").check()
    page.get_by_role("button", name="Jetzt anmelden").click()

    expect(page.locator(".done")).to_contain_text("Vielen Dank: Sie sind angemeldet.")
    _shot(page, tmp_path, f"i18n-hosted-de-done-{width}")
    assert db.session.scalar(db.select(Lead.language)) == "de"


def test_without_javascript_the_german_page_registers_in_german(
    german, live_server: str, quick_forms: None
):
    origin = _origin()
    page = german(390, javascript=False)
    page.goto(f"{live_server}/r/{origin.ref}")

    page.get_by_role("button", name="Jetzt anmelden").click()
    expect(page).to_have_title("Fehler: Machen Sie bei der Beta mit")
    page.get_by_label("Vorname").fill("Ada")
    page.locator("#f-email").fill("ada@example.com")
    page.get_by_label("Solo").check()
    page.get_by_role("button", name="Jetzt anmelden").click()

    expect(page.locator(".done")).to_contain_text("Vielen Dank: Sie sind angemeldet.")


def test_the_german_page_has_no_serious_accessibility_violations(
    german, live_server: str, quick_forms: None
):
    origin = _origin()
    page = german(1280, bypass_csp=True)
    page.goto(f"{live_server}/r/{origin.ref}")

    assert axe_violations(page) == []
