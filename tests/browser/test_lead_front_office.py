"""The front-office in Chromium: a lead asks for a sign-in link, signs in with it, finds their
journeys, does the last task and is taken to the journey's redirect."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import ActivityKind, Channel, LeadSignIn, OriginKind, OutboxMessage
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.public.sites import third_party_site


def test_a_lead_signs_in_by_email_and_finishes_a_journey(page: Page, live_server: str):
    ws = factories.workspace("Acme")
    beta = factories.funnel(ws, name="Beta programme")
    factories.activity(factories.stage(beta, "Welcome"), ActivityKind.LEAD_TASK, "Read the guide")
    webinar = factories.funnel(ws, name="Webinar")
    factories.activity(factories.stage(webinar, "Before"), ActivityKind.LEAD_TASK, "Pick a date")
    with third_party_site() as site:
        site.pages["/next"] = "<!doctype html><title>Next</title><h1>Next steps</h1>"
        lead_input = LeadInput(email="ada@example.com", redirect_url=f"{site.url}/next")
        register(factories.origin(beta, OriginKind.PAGE), lead_input, RegistrationContext())
        register(
            factories.origin(webinar), LeadInput(email="ada@example.com"), RegistrationContext()
        )

        page.goto(f"{live_server}/j/login")
        page.get_by_label("Email").fill("ada@example.com")
        page.get_by_role("button", name="Email me a link").click()
        expect(page.get_by_role("status")).to_contain_text("a link to sign in is on its way")
        db.session.rollback()
        db.session.expire_all()
        email = db.session.scalar(db.select(OutboxMessage).filter_by(channel=Channel.EMAIL))
        link = re.search(rf"{re.escape(live_server)}/j/login/\S+", email.payload["text"])[0]

        page.goto(link)
        page.get_by_role("button", name="Sign in").click()
        expect(page.locator("h1")).to_have_text("Your journeys")
        expect(page.locator(".journey-item")).to_have_count(2)
        expect(page.get_by_role("progressbar").first).to_be_visible()
        page.get_by_role("link", name="Beta programme").click()
        expect(page.locator("h1")).to_have_text("Beta programme")
        expect(page.get_by_text("0 of 1 done")).to_be_visible()
        page.get_by_role("button", name="Mark done").click()

        page.wait_for_url(f"{site.url}/next")  # the lead's last task: on to the redirect URL
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(db.select(LeadSignIn.used_at)) is not None
