"""Issue 14's "done when", in Chromium: staff build a funnel with a branch, a stakeholder approval,
a document upload, a signature and a staff task in the back-office; a lead registers on its hosted
page and does their part, their accountant approves by the emailed link, and the journey
completes; a second lead takes the other branch and staff finish it from the lead page.

Screenshots (1280 px for staff, 390 px for the lead and the stakeholder) are written only when
SHOTS_DIR names a folder: a person reads them, CI need not spend time writing them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from leadsite.extensions import db
from leadsite.models import (
    Journey,
    JourneyFile,
    JourneyStatus,
    JourneyStep,
    Lead,
    Signature,
    StakeholderLink,
    StepStatus,
)
from leadsite.outbox import worker
from tests import factories
from tests.browser.funnel_builder import TERMS, build_funnel, create_data_points, shot
from tests.browser.test_funnels_editor import _sign_in
from tests.servers import Mailbox, smtp_server

STAFF = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ACCOUNTANT = "books@ledger.example"


@pytest.fixture
def mailbox(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """The real SMTP server, which the worker sends the app's emails to."""
    with smtp_server() as (box, port):
        monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{port}")
        yield box


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A browser of the lead's or the stakeholder's own: no staff session, a phone's width."""
    context = browser.new_context(viewport=PHONE)
    yield context.new_page()
    context.close()


def run_worker() -> None:
    """What the worker process does in production: run due steps, send what they queued."""
    db.session.rollback()  # the server wrote from its own thread
    for _ in range(10):
        if not worker.run_once():
            return


def email_to(mailbox: Mailbox, address: str, count: int) -> Message:
    """The last of `count` emails that reached `address`."""
    mailbox.wait_for(count)
    found = [m for m in mailbox.messages if m["To"] == address]
    assert found, [m["To"] for m in mailbox.messages]
    return found[-1]


def link_in(message: Message, base: str, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(rf"{re.escape(base)}{path}\S+", text)
    assert match, text
    return match[0]


def register_on_hosted_page(phone: Page, url: str, first_name: str, email: str) -> None:
    phone.goto(url)
    phone.get_by_label("First name").fill(first_name)
    phone.get_by_label("Last name").fill("Lovelace")
    phone.get_by_label("Email").fill(email)
    phone.get_by_role("button", name="Sign up").click()
    expect(phone.locator(".done")).to_contain_text("Thank you")


def answer_qualify(phone: Page, size: str) -> None:
    task = phone.locator(".task", has_text="About your company")
    task.get_by_label("Company size").fill(size)
    task.get_by_label("Accountant's email").fill(ACCOUNTANT)
    task.get_by_role("button", name="Save and mark done").click()
    expect(phone.locator(".notice-line")).to_have_text("Thank you: that is done.")


def journey_of(email: str) -> Journey:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(db.select(Journey).join(Journey.lead).filter(Lead.email == email))


def step_statuses(journey: Journey) -> dict[str, str]:
    steps = db.session.scalars(db.select(JourneyStep).filter_by(journey_id=journey.id))
    return {step.title: step.status for step in steps}


def open_lead(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Leads").click()
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()


def test_staff_build_a_branching_funnel_a_lead_and_a_stakeholder_run_it_to_the_end(
    app: Flask,
    page: Page,
    phone: Page,
    live_server: str,
    mailbox: Mailbox,
    quick_forms: None,
    tmp_path: Path,
):
    ws = factories.workspace("Acme")
    staff = factories.user(ws)
    staff.name = "Grace Hopper"
    db.session.commit()
    certificate = tmp_path / "registration.pdf"
    certificate.write_bytes(b"%PDF-1.4 Engines Ltd, company number 42")
    errors: list[str] = []
    for browser_page in (page, phone):
        browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_viewport_size(STAFF)
    _sign_in(page, live_server, staff.email)
    create_data_points(page)
    hosted_page = build_funnel(page, live_server, "Grace Hopper")

    # A small company: Qualify, then Self-serve (upload, sign, the accountant approves).
    register_on_hosted_page(phone, hosted_page, "Ada", "ada@example.com")
    shot(phone, "04-registered-390")
    run_worker()
    ada_page = link_in(email_to(mailbox, "ada@example.com", 1), live_server, "/j/")
    phone.goto(ada_page)
    expect(phone.locator(".stage-current")).to_contain_text("Qualify")
    shot(phone, "05-journey-qualify-390")
    answer_qualify(phone, "5")
    expect(phone.locator(".stage-current")).to_contain_text("Self-serve")
    shot(phone, "06-journey-self-serve-390")
    phone.get_by_label("Your documents").set_input_files([certificate])
    phone.get_by_role("button", name="Upload").click()
    uploaded = phone.get_by_role("list", name="Uploaded for Your company registration")
    expect(uploaded).to_contain_text("registration.pdf")
    expect(phone.get_by_role("region", name="Text to sign")).to_contain_text(TERMS)
    phone.get_by_label("Your full name").fill("Ada Lovelace")
    phone.get_by_label("I have read the text above and I agree to it.").check()
    phone.get_by_role("button", name="Sign").click()
    expect(phone.locator(".notice-line")).to_have_text("Thank you: that is done.")
    expect(phone.locator(".done")).to_contain_text("You have done everything for now")
    shot(phone, "07-journey-lead-done-390")

    run_worker()
    request = email_to(mailbox, ACCOUNTANT, 2)
    phone.goto(link_in(request, live_server, "/s/"))
    expect(phone.locator("h1")).to_have_text("Approve the account")
    expect(phone.locator(".exposed")).to_contain_text("5")
    phone.get_by_label("Comment").fill("Engines Ltd is in good standing.")
    shot(phone, "08-stakeholder-390")
    phone.get_by_role("button", name="Approve").click()
    expect(phone.locator("h1")).to_have_text("Thank you")
    shot(phone, "09-stakeholder-thanks-390")
    phone.goto(ada_page)
    expect(phone.locator(".done")).to_contain_text("All done")

    ada = journey_of("ada@example.com")
    assert ada.status == JourneyStatus.COMPLETED
    assert step_statuses(ada) == {
        "Welcome": StepStatus.DONE,
        "About your company": StepStatus.DONE,
        "Call the lead": StepStatus.SKIPPED,
        "Approve the account": StepStatus.DONE,
        "Your company registration": StepStatus.DONE,
        "The agreement": StepStatus.DONE,
    }
    assert db.session.scalar(db.select(Signature.name)) == "Ada Lovelace"
    assert db.session.scalar(db.select(JourneyFile.filename)) == "registration.pdf"
    assert db.session.scalar(db.select(StakeholderLink.decision)) == "approved"

    open_lead(page, "Ada Lovelace")
    journey = page.locator(f"#{ada.id}")
    expect(journey.locator(".journey-head .badge[data-status]")).to_have_text("completed")
    expect(journey.locator(".journey-head .badge-converted")).to_contain_text("Converted")
    expect(journey.locator("tr", has_text="Call the lead")).to_contain_text(
        "passed over: no branch of “Qualify” held (company_size (5) is not > 10)"
    )
    expect(page.locator("#lead-timeline")).to_contain_text("otherwise to “Self-serve”")
    expect(journey.locator(".evidence-files")).to_contain_text("registration.pdf")
    expect(journey.locator(".evidence-signature")).to_contain_text("Ada Lovelace")
    expect(journey.locator(".stakeholder-link")).to_contain_text("approved")
    expect(journey.locator(".stakeholder-comment")).to_have_text("Engines Ltd is in good standing.")
    shot(page, "10-lead-page-completed-1280")

    # A large company: Qualify, then Sales review, which staff finish from the lead page.
    register_on_hosted_page(phone, hosted_page, "Charles", "charles@example.com")
    run_worker()
    phone.goto(link_in(email_to(mailbox, "charles@example.com", 3), live_server, "/j/"))
    answer_qualify(phone, "50")
    expect(phone.locator(".stage-current")).to_contain_text("Sales review")
    # Sales review ends the journey: Self-serve's upload and signature are not promised.
    expect(phone.locator(".done")).to_contain_text("You have done everything for now")
    expect(phone.locator(".stages")).not_to_contain_text("Self-serve")
    shot(phone, "11-journey-sales-review-390")
    open_lead(page, "Charles Lovelace")
    charles = journey_of("charles@example.com")
    journey = page.locator(f"#{charles.id}")
    expect(journey.locator(".standing")).to_contain_text("In Sales review")
    shot(page, "12-lead-page-staff-task-1280")
    journey.get_by_role("button", name="Mark done Call the lead").click()
    head = page.locator(f"#{charles.id} .journey-head")
    expect(head.locator(".badge[data-status]")).to_have_text("completed")
    expect(head.locator(".badge-converted")).to_contain_text("Converted (Onboarding")
    shot(page, "13-lead-page-sales-done-1280")

    charles = journey_of("charles@example.com")
    assert charles.status == JourneyStatus.COMPLETED
    assert step_statuses(charles) == {
        "Welcome": StepStatus.DONE,
        "About your company": StepStatus.DONE,
        "Call the lead": StepStatus.DONE,
        "Approve the account": StepStatus.SKIPPED,
        "Your company registration": StepStatus.SKIPPED,
        "The agreement": StepStatus.SKIPPED,
    }
    assert [m["To"] for m in mailbox.messages] == [
        "ada@example.com",
        ACCOUNTANT,
        "charles@example.com",
    ]
    assert errors == [], errors
