"""An administrator invites someone new in Chromium; the emailed link, opened in another
browser, sets their password and opens the back-office."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from leadsite.extensions import db
from leadsite.models import Channel, OutboxMessage
from tests import factories


def test_an_invitation_link_sets_the_password_and_signs_in(
    page: Page, browser: Browser, live_server: str
):
    admin = factories.user(factories.workspace("Acme Leads"))
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")

    page.goto(f"{live_server}/p/settings/users")
    page.get_by_label("Email").fill("newcomer@example.com")
    page.get_by_label("Role").select_option("manager")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#flash")).to_contain_text("Invitation sent to newcomer@example.com")
    expect(page.get_by_role("table").nth(1)).to_contain_text("newcomer@example.com")

    db.session.expire_all()
    email = db.session.scalar(
        db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target="newcomer@example.com")
    )
    link = re.search(r"https?://\S+/invitations/\S+", email.payload["text"]).group(0)
    assert link.startswith(live_server)

    newcomer = browser.new_context().new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="Join Acme Leads")).to_be_visible()
    newcomer.get_by_label("Your name").fill("Nia Newcomer")
    newcomer.locator("#password").fill("a password of my own")
    newcomer.locator("#confirm_password").fill("a password of my own")
    newcomer.get_by_role("button", name="Create my account").click()

    expect(newcomer).to_have_url(f"{live_server}/p/")
    expect(newcomer.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(newcomer.locator(".user-email")).to_have_text("newcomer@example.com")
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="Invitation not valid")).to_be_visible()
