"""axe-core over every page a lead sees and the back-office's main pages, in Chromium: no serious
or critical violation (contrast, labels, landmarks, names) on any of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from leadsite.extensions import db
from leadsite.journeys.emails import unsubscribe_token
from leadsite.models import JourneyStatus, OriginKind
from leadsite.public.tokens import confirm_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.journeys.stakeholder_world import emailed_token, stakeholder_funnel
from tests.journeys.stakeholder_world import registered as stakeholder_registered

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
SERIOUS = ("serious", "critical")


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    """A context that may inject axe-core inline despite the pages' CSP."""
    context = browser.new_context(bypass_csp=True)
    yield context
    context.close()


def serious_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run()")
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]


def audit(page: Page, live_server: str, paths: list[str]) -> dict[str, list[dict]]:
    """Each path's serious violations, by path; the pages that have none are left out."""
    found = {}
    for path in paths:
        page.goto(f"{live_server}{path}")
        if violations := serious_violations(page):
            found[path] = violations
    return found


def test_every_page_a_lead_sees_has_no_serious_accessibility_violation(
    axe_context: BrowserContext, live_server: str
):
    ws = factories.workspace("Acme")
    funnel = factories.staged_funnel(ws, double_opt_in=True)
    hosted = factories.origin(funnel, OriginKind.PAGE)
    embed = factories.origin(funnel, OriginKind.EMBED, allowed_domains=["http://127.0.0.1:*"])
    waiting = register(hosted, LeadInput(email="wait@example.com"), RegistrationContext())
    ada = register(
        hosted, LeadInput(email="ada@example.com", first_name="Ada"), RegistrationContext()
    )
    ada.lead.confirmed_at = ada.lead.created_at
    ada.journey.status = JourneyStatus.ACTIVE
    db.session.commit()
    helper = stakeholder_funnel(factories.workspace("Ledger"), email_data_point="accountant_email")
    stakeholder_registered(helper, accountant_email="books@ledger.example")
    db.session.commit()
    page = axe_context.new_page()

    found = audit(
        page,
        live_server,
        [
            f"/r/{hosted.ref}",
            f"/embed/{embed.ref}",
            f"/j/{ada.journey.access_token}",
            f"/confirm/{confirm_token(waiting.lead.id, waiting.journey.id)}",
            f"/unsubscribe/{unsubscribe_token(ada.lead)}",
            "/j/login",
            f"/s/{emailed_token('books@ledger.example')}",
            "/r/no-such-ref",
            "/confirm/not-a-token",
        ],
    )
    page.goto(f"{live_server}/r/{hosted.ref}")
    page.get_by_role("button").last.click()  # the form sent back with its errors
    expect(page.locator(".error-summary")).to_be_visible()
    if violations := serious_violations(page):
        found["hosted page with errors"] = violations
    page.goto(f"{live_server}/confirm/{confirm_token(waiting.lead.id, waiting.journey.id)}")
    page.get_by_role("button", name="Yes, confirm my registration").click()
    expect(page.get_by_role("heading", name="Your registration is confirmed")).to_be_visible()
    if violations := serious_violations(page):
        found["confirmed"] = violations

    assert found == {}, json.dumps(found, indent=1)[:4000]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_main_back_office_pages_have_no_serious_accessibility_violation(
    axe_context: BrowserContext, live_server: str, width: int
):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    funnel = factories.staged_funnel(ws, name="Trials")
    origin = factories.origin(funnel, OriginKind.PAGE)
    lead = factories.registered(origin, email="ada@example.com", first_name="Ada")
    factories.delivery_attempt(lead, status_code=502, error="HTTP 502 Bad Gateway")
    email = factories.email_message(ws, subject="Welcome", html="<p>Hello <a href='#'>Ada</a></p>")
    endpoint = factories.webhook_endpoint(ws, url="https://hooks.example.com/leads")
    page = axe_context.new_page()
    # On a phone, a table wider than the screen scrolls: the keyboard must reach it too.
    page.set_viewport_size({"width": width, "height": 900})

    found = audit(page, live_server, ["/login"])
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")
    found |= audit(
        page,
        live_server,
        [
            "/p/",
            "/p/leads",
            f"/p/leads/{lead.id}",
            "/p/funnels",
            f"/p/funnels/edit/{funnel.id}",
            f"/p/funnels/edit/{funnel.id}/origins/{origin.id}",
            "/p/tasks",
            "/p/settings/",
            "/p/settings/mailbox",
            f"/p/settings/mailbox/{email.id}",
            "/p/leads/lead_does_not_exist",
            "/p/leads/board",
            "/p/leads/new",
            f"/p/funnels/edit/{funnel.id}/analytics",
            f"/p/funnels/edit/{funnel.id}/origins/{origin.id}/log",
            f"/p/funnels/edit/{funnel.id}/origins/{origin.id}/translations",
            "/p/data-points",
            "/p/settings/workspace",
            "/p/settings/users",
            "/p/settings/statuses",
            "/p/settings/api-keys",
            "/p/settings/webhooks",
            f"/p/settings/webhooks/{endpoint.id}",
            "/p/account",
        ],
    )

    assert found == {}, json.dumps(found, indent=1)[:4000]
