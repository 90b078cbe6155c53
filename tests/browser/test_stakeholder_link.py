"""A stakeholder opens the link that reached their inbox and approves, in Chromium."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import StakeholderLink, StepStatus
from leadsite.outbox import worker
from tests import factories
from tests.journeys.stakeholder_world import TASK, registered, stakeholder_funnel, task
from tests.servers import smtp_server

ACCOUNTANT = "books@ledger.example"


def test_the_stakeholder_approves_through_the_emailed_link(
    app: Flask, page: Page, live_server: str
):
    ws = factories.workspace("Acme")
    funnel = stakeholder_funnel(
        ws,
        email_data_point="accountant_email",
        instructions="Check the yearly figures.",
        show_data_points=["company"],
    )
    journey = registered(funnel, accountant_email=ACCOUNTANT, company="Engines Ltd")
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            worker.run_once()
        finally:
            app.config["MAIL_URL"] = None
        [email] = mailbox.wait_for(1)
    assert email["To"] == ACCOUNTANT
    text = email.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(live_server)}/s/\S+", text)[0]

    page.goto(link)
    expect(page.locator("h1")).to_have_text(TASK)
    expect(page.locator(".exposed")).to_contain_text("Engines Ltd")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#f-comment-error")).to_contain_text("the comment is required")
    page.fill("#f-comment", "Figures match the ledger.")
    page.get_by_role("button", name="Approve").click()

    expect(page.locator("h1")).to_have_text("Thank you")
    db.session.rollback()
    db.session.expire_all()
    assert task(journey).status == StepStatus.DONE
    assert db.session.scalar(db.select(StakeholderLink.comment)) == "Figures match the ledger."
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Already answered")
