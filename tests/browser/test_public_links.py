"""Links in a lead's emails, in Chromium: confirm, unsubscribe, and their journey page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.journeys.emails import unsubscribe_url
from leadsite.models import (
    ActivityKind,
    Channel,
    DataPointType,
    JourneyData,
    Lead,
    OriginKind,
    OutboxMessage,
)
from leadsite.public.confirm import send_confirmation
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.public.sites import third_party_site


def test_the_confirm_link_in_the_email_confirms_with_its_button(page: Page, live_server: str):
    funnel = factories.staged_funnel(factories.workspace(), double_opt_in=True)
    origin = factories.origin(funnel, OriginKind.PAGE)
    registration = register(origin, LeadInput(email="ada@example.com"), RegistrationContext())
    if db.session.scalar(db.select(OutboxMessage.id)) is None:  # until the pipeline does it
        send_confirmation(registration.lead, registration.journey)
        db.session.commit()
    text = db.session.scalar(db.select(OutboxMessage).filter_by(channel=Channel.EMAIL)).payload
    link = re.search(rf"{re.escape(live_server)}/confirm/\S+", text["text"])[0]

    page.goto(link)

    # Opening the link (as a mail scanner does) confirms nothing: the button does.
    expect(page.locator("h1")).to_have_text("Confirm your registration")
    confirmed_at = db.select(Lead.confirmed_at).filter_by(id=registration.lead.id)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(confirmed_at) is None
    page.get_by_role("button", name="Yes, confirm my registration").click()
    expect(page.locator("h1")).to_have_text("Your registration is confirmed")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(confirmed_at) is not None
    page.goto(link)
    expect(page.locator("h1")).to_have_text("You had confirmed already")


def test_the_unsubscribe_link_opts_out_with_one_button(page: Page, live_server: str):
    lead = factories.lead(factories.workspace(), email="ada@example.com")

    page.goto(unsubscribe_url(lead))
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(db.select(Lead.opted_out_at).filter_by(id=lead.id)) is not None


def test_the_lead_does_their_tasks_on_their_page_then_goes_on(
    page: Page, live_server: str, quick_forms: None
):
    ws = factories.workspace()
    factories.data_point(ws, "team_size", type=DataPointType.NUMBER, label="Team size")
    funnel = factories.funnel(ws, name="Beta programme")
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(
        welcome, ActivityKind.LEAD_TASK, "About your team", data_points=["team_size"]
    )
    factories.activity(welcome, ActivityKind.LEAD_TASK, "Read the guide")
    origin = factories.origin(funnel, OriginKind.PAGE)
    with third_party_site() as site:
        site.pages["/next"] = "<!doctype html><title>Next</title><h1>Next steps</h1>"
        lead_input = LeadInput(email="ada@example.com", redirect_url=f"{site.url}/next")
        journey = register(origin, lead_input, RegistrationContext()).journey

        page.goto(f"{live_server}/j/{journey.access_token}")
        page.fill("#f-data-team-size", "a few")
        page.get_by_role("button", name="Save and mark done").click()
        expect(page.locator("#f-data-team-size-error")).to_contain_text("must be a number")
        expect(page.locator("#f-data-team-size")).to_be_focused()
        page.fill("#f-data-team-size", "4")
        page.get_by_role("button", name="Save and mark done").click()
        expect(page.get_by_role("status")).to_have_text("Thank you: that is done.")
        page.get_by_role("button", name="Mark done").click()

        page.wait_for_url(f"{site.url}/next")  # every task done: on to the redirect URL
    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(db.select(JourneyData.value)) == 4
