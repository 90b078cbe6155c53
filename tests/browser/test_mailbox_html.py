"""The dev mailbox in Chromium: an email's HTML shows as a mail client would, its scripts do not
run, and its links open in a new tab."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests import factories
from tests.public.sites import third_party_site


def test_an_emails_html_shows_without_its_script_and_its_link_opens_a_new_tab(
    page: Page, live_server: str
):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")
    with third_party_site() as site:
        site.pages["/welcome"] = "<!doctype html><title>Shop</title><h1>The shop</h1>"
        html = (
            f"<h1>Welcome, Ada</h1><p>Start <a href='{site.url}/welcome'>here</a>.</p>"
            "<script>document.body.append('a script ran')</script>"
        )
        email = factories.email_message(ws, subject="Welcome", html=html)

        page.goto(f"{live_server}/p/settings/mailbox/{email.id}")
        frame = page.frame_locator("iframe.email-html")
        expect(frame.get_by_role("heading", name="Welcome, Ada")).to_be_visible()
        expect(frame.locator("body")).not_to_contain_text("a script ran")
        with page.context.expect_page() as opened:
            frame.get_by_role("link", name="here").click()

        tab = opened.value
        expect(tab.get_by_role("heading", name="The shop")).to_be_visible()
        assert page.url == f"{live_server}/p/settings/mailbox/{email.id}"
