"""Sign in through the real page in Chromium and reach the back-office."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests import factories


def test_staff_sign_in_and_see_the_dashboard(page: Page, live_server: str):
    person = factories.user(factories.workspace("Acme Leads"))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server}/p/")
    expect(page).to_have_url(f"{live_server}/login?next=%2Fp%2F")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server}/p/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Settings")
    assert page.evaluate("window.htmx && window.htmx.version") == "4.0.1"
    assert errors == [], errors  # no CSP violation, no script error


def test_a_wrong_password_shows_the_message_on_the_page(page: Page, live_server: str):
    person = factories.user()

    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill("not it")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect(page.get_by_label("Email")).to_have_value(person.email)


def test_workspace_settings_save_in_place_with_htmx(page: Page, live_server: str):
    person = factories.user(factories.workspace("Acme"))
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/p/settings/workspace")
    page.evaluate("window.marker = 'same page'")

    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#name-error")).to_contain_text("This field is required")

    page.get_by_label("Name").fill("Acme Europe")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#flash")).to_contain_text("Workspace settings saved.")
    assert page.evaluate("window.marker") == "same page"  # no full reload
    expect(page.get_by_label("Name")).to_have_value("Acme Europe")
