"""Forgot password in Chromium: from the sign-in page to the emailed link to a new password."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Channel, OutboxMessage
from tests import factories


def test_forgot_password_from_the_sign_in_page_to_a_new_password(page: Page, live_server: str):
    person = factories.user(email="ana@example.com")

    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.locator(".auth-card")).to_contain_text("is on its way")

    db.session.expire_all()
    email = db.session.scalar(
        db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target=person.email)
    )
    link = re.search(r"https?://\S+/reset-password/\S+", email.payload["text"]).group(0)
    page.goto(link)
    page.locator("#password").fill("my brand new password")
    page.locator("#confirm_password").fill("my brand new password")
    page.get_by_role("button", name="Save the new password").click()

    expect(page).to_have_url(f"{live_server}/login")
    expect(page.locator("#flash")).to_contain_text("Your password is changed")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password").fill("my brand new password")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")
