"""The analytics page in Chromium: the charts' bars at a phone's width and a desk's (with a
screenshot each, read by the person changing the page), and the filter with and without
JavaScript."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import factories
from tests.analytics import report_world

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """As tests/browser: Debian's Chromium, headless."""
    return {
        "headless": True,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": ["--no-sandbox", "--disable-gpu", "--no-first-run"],
    }


def _sign_in(page: Page, live_server: str, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")


def _bars(page: Page, chart: str) -> list[tuple[str, str, float]]:
    return page.locator(f"#{chart}-chart .funnel-bar").evaluate_all(
        "bars => bars.map(b => [b.dataset.label, b.dataset.value, +b.getAttribute('width')])"
    )


@pytest.mark.parametrize("width", [390, 1280])
def test_charts_show_the_funnels_bars(page: Page, live_server: str, width: int):
    world = report_world.build()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page, live_server, factories.user(world.workspace).email)

    page.goto(f"{live_server}/p/funnels/edit/{world.funnel.id}")
    page.get_by_role("link", name="Analytics").click()

    expect(page.get_by_role("heading", name="Form funnel")).to_be_visible()
    form = _bars(page, "form")
    assert [(label, value) for label, value, _ in form] == [
        ("Views", "130"),
        ("Starts", "50"),
        ("Submissions", "30"),
        ("Registrations", "25"),
        ("Confirmations", "10"),
        ("Conversions", "3"),
    ]
    assert [w for _, _, w in form] == [360, 138.5, 83.1, 69.2, 27.7, 8.3]
    journey = _bars(page, "journey")
    assert [(label, value) for label, value, _ in journey] == [
        ("Registered", "4"),
        ("Welcome", "4"),
        ("Call", "2"),
        ("Converted", "2"),
    ]
    completed = page.locator("#journey-chart .funnel-bar-part").evaluate_all(
        "parts => parts.map(p => p.dataset.value)"
    )
    assert completed == ["3", "1"]
    svg = page.locator("#form-chart").bounding_box()
    assert svg is not None and svg["width"] <= width  # no sideways scrolling for the chart
    page.screenshot(path=str(SHOTS / f"analytics-{width}.png"), full_page=True)
    for section in ("form", "journey"):
        card = page.locator(f"section[aria-labelledby={section}-title]")
        card.screenshot(path=str(SHOTS / f"analytics-{width}-{section}.png"))
    assert errors == []


def test_filter_swaps_the_report_with_htmx(page: Page, live_server: str):
    world = report_world.build()
    _sign_in(page, live_server, factories.user(world.workspace).email)
    page.goto(f"{live_server}/p/funnels/edit/{world.funnel.id}/analytics")
    page.evaluate("window.marker = 'same page'")

    page.get_by_role("combobox", name="Origin").select_option(label="Embed (embed)")
    page.get_by_role("button", name="Show").click()

    expect(page.locator('#journey-stats [data-metric="registrations"]')).to_have_text("2")
    expect(page).to_have_url(re.compile(f"origin={world.embed.id}"))
    assert page.evaluate("window.marker") == "same page"


def test_filter_works_without_javascript(browser, live_server: str):
    world = report_world.build()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _sign_in(page, live_server, factories.user(world.workspace).email)
    page.goto(f"{live_server}/p/funnels/edit/{world.funnel.id}/analytics")

    page.get_by_role("combobox", name="Origin").select_option(label="Page (page)")
    page.get_by_role("button", name="Show").click()

    expect(page).to_have_url(re.compile(f"origin={world.page.id}"))
    expect(page.locator('#journey-stats [data-metric="registrations"]')).to_have_text("2")
    expect(page.locator('#form-chart .funnel-bar[data-label="Views"]')).to_have_attribute(
        "data-value", "120"
    )
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_dashboard_shows_the_week(page: Page, live_server: str, width: int):
    world = report_world.build()
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page, live_server, factories.user(world.workspace).email)

    expect(page.locator('[data-metric="week-registrations"]')).to_have_text("4")
    expect(page.locator('[data-metric="week-rate"]')).to_have_text("50.0%")
    page.screenshot(path=str(SHOTS / f"dashboard-{width}.png"))
