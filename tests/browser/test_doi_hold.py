"""Double opt-in in Chromium: the journey page waits for the confirmation, then shows the tasks."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import ActivityKind, Channel, OriginKind, OutboxMessage
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories


def test_the_journey_page_waits_for_the_confirmation_then_shows_the_tasks(
    page: Page, live_server: str
):
    funnel = factories.funnel(factories.workspace(), double_opt_in=True)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.LEAD_TASK, "Read the guide")
    origin = factories.origin(funnel, OriginKind.PAGE)
    lead_input = LeadInput(email="ada@example.com", first_name="Ada")
    journey = register(origin, lead_input, RegistrationContext()).journey
    email = db.session.scalar(db.select(OutboxMessage).filter_by(channel=Channel.EMAIL))
    link = re.search(rf"{re.escape(live_server)}/confirm/\S+", email.payload["text"])[0]

    page.goto(f"{live_server}/j/{journey.access_token}")
    expect(page.get_by_role("heading", name="Confirm your email to start")).to_be_visible()
    expect(page.get_by_role("button", name="Mark done")).to_have_count(0)

    page.goto(link)
    page.get_by_role("button", name="Yes, confirm my registration").click()
    expect(page.locator("h1")).to_have_text("Your registration is confirmed")
    page.goto(f"{live_server}/j/{journey.access_token}")

    expect(page.get_by_role("heading", name="Confirm your email to start")).to_have_count(0)
    expect(page.locator(".task-title", has_text="Read the guide")).to_be_visible()
    expect(page.get_by_role("button", name="Mark done")).to_be_visible()
