"""The back-office in Chromium on a phone (390 px) and without JavaScript: one menu button for
the navigation, the whole dashboard chart, dangerous actions last, no dead copy buttons."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from leadsite.extensions import db
from leadsite.models import OriginKind, Workspace, utcnow
from tests import factories
from tests.browser.test_leads_inline import _sign_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """A page in a context of its own: `open_page(viewport=PHONE, java_script_enabled=False)`."""
    contexts: list[BrowserContext] = []

    def open_with(**options: object) -> Page:
        contexts.append(browser.new_context(**options))
        return contexts[-1].new_page()

    yield open_with
    for context in contexts:
        context.close()


def _signed_in(page: Page, live_server: str) -> Workspace:
    ws = factories.workspace("Acme")
    _sign_in(page, live_server, factories.user(ws), "/p/")
    return ws


def test_the_navigation_is_one_menu_button_that_opens_without_javascript(
    open_page: Callable[..., Page], live_server: str
):
    page = open_page(viewport=PHONE, java_script_enabled=False)
    _signed_in(page, live_server)
    header = page.locator("header.topbar")
    leads = page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads")

    assert header.bounding_box()["height"] < 80  # one row, not three
    expect(leads).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(leads).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    leads.click()

    expect(page).to_have_url(f"{live_server}/p/leads")
    expect(page.get_by_role("heading", name="Leads", level=1)).to_be_visible()


def test_the_phone_menu_switches_workspaces_without_javascript(
    open_page: Callable[..., Page], live_server: str
):
    page = open_page(viewport=PHONE, java_script_enabled=False)
    acme, other = factories.workspace("Acme"), factories.workspace("Globex")
    person = factories.user(acme)
    factories.user(other, email=person.email)  # a member of both
    _sign_in(page, live_server, person, "/p/")
    menu = page.locator("details.nav-menu")

    menu.get_by_text("Menu", exact=True).click()
    menu.get_by_text("Acme", exact=True).click()
    menu.get_by_role("button", name="Globex").click()

    expect(page).to_have_url(f"{live_server}/p/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_text("Menu", exact=True).click()
    expect(menu.locator(".menu summary")).to_have_text("Globex")


def test_the_dashboard_chart_fits_a_phone_with_today_readable(
    open_page: Callable[..., Page], live_server: str
):
    page = open_page(viewport=PHONE)
    ws = _signed_in(page, live_server)
    funnel = factories.funnel(ws)
    for days_ago in (0, 3, 20):
        journey = factories.journey(factories.lead(ws), funnel)
        journey.created_at = utcnow() - timedelta(days=days_ago)
    db.session.commit()
    today = utcnow().date()

    page.reload()
    chart = page.locator("figure.chart")
    chart.scroll_into_view_if_needed()
    today_label = chart.locator("text.chart-label", has_text=f"{today:%b} {today.day}")

    expect(today_label).to_be_in_viewport(ratio=1)  # not clipped by the card
    assert chart.evaluate("figure => figure.scrollWidth <= figure.clientWidth")
    assert today_label.bounding_box()["height"] >= 9  # labels readable, not shrunk to fit
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]


def test_erasing_a_lead_is_the_last_action_on_its_page(
    open_page: Callable[..., Page], live_server: str
):
    page = open_page(viewport=PHONE)
    ws = _signed_in(page, live_server)
    lead = factories.lead(ws, first_name="Ada", last_name="Lovelace")

    page.goto(f"{live_server}/p/leads/{lead.id}")
    actions = page.locator("main").locator("a.button:visible, button:visible")
    erase = page.get_by_role("link", name="Erase personal data")

    expect(erase).to_have_count(1)
    assert actions.first.inner_text() != erase.inner_text()
    assert actions.last.inner_text() == erase.inner_text()
    expect(page.get_by_role("region", name="Erase personal data")).to_contain_text(
        "You confirm on the next page"
    )


def test_copy_buttons_show_only_when_javascript_can_copy(
    open_page: Callable[..., Page], page: Page, live_server: str
):
    desktop_without_js = open_page(viewport=DESKTOP, java_script_enabled=False)
    ws = _signed_in(desktop_without_js, live_server)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.PAGE)
    edit = f"{live_server}/p/funnels/edit/{funnel.id}"

    desktop_without_js.goto(edit)
    link = desktop_without_js.locator("code", has_text=f"/r/{origin.ref}")
    expect(link).to_be_visible()  # the text is there to select by hand
    expect(desktop_without_js.locator("button.copy-button")).not_to_have_count(0)
    for button in desktop_without_js.locator("button.copy-button").all():
        expect(button).to_be_hidden()

    _sign_in(page, live_server, factories.user(ws), edit.removeprefix(live_server))
    expect(page.locator("button.copy-button").first).to_be_visible()
