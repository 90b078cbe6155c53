"""The hosted page in Chromium: with JavaScript off and on, bots, redirects, accessibility."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from leadsite.extensions import db
from leadsite.models import DataPointType, Lead, OriginKind
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.public.sites import third_party_site

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
FIELDS = [
    {"field": "first_name", "required": True},
    {"field": "email"},
    {"field": "phone", "help": "With the country code, e.g. +44."},
    {"data_point": "plan", "widget": "radios", "required": True},
    {"data_point": "seats"},
    {"data_point": "student"},
]
SETTINGS = {
    "title": "Join the beta",
    "intro": "Two minutes, no more.",
    "consent": {"text": "Email me about the beta.", "version": "3"},
}


@pytest.fixture
def axe_context(browser: Browser) -> Iterator[BrowserContext]:
    """A context that may inject axe-core inline despite the page's CSP."""
    context = browser.new_context(bypass_csp=True)
    yield context
    context.close()


def page_origin(**fields: object):
    ws = factories.workspace()
    factories.data_point(ws, "plan", type=DataPointType.CHOICE, choices=["Solo", "Team"])
    factories.data_point(ws, "seats", type=DataPointType.NUMBER, label="Seats")
    factories.data_point(ws, "student", type=DataPointType.BOOLEAN, label="I am a student")
    fields.setdefault("form_fields", FIELDS)
    fields.setdefault("settings", SETTINGS)
    return factories.origin(factories.staged_funnel(ws), OriginKind.PAGE, **fields)


def test_the_hosted_page_registers_a_lead_with_javascript_disabled(
    no_js: Page, live_server: str, quick_forms: None
):
    origin = page_origin(success_message="See you soon!")
    no_js.goto(f"{live_server}/r/{origin.ref}?utm_source=flyer&utm_medium=print")

    no_js.fill("#f-email", "ada@")
    no_js.click("button[type=submit]")
    expect(no_js.locator(".error-summary")).to_be_visible()
    expect(no_js).to_have_title("Error: Join the beta")
    expect(no_js.locator("#f-first-name")).to_be_focused()
    expect(no_js.locator("#f-email")).to_have_value("ada@")
    expect(no_js.locator("#f-email")).to_have_attribute("aria-invalid", "true")

    no_js.fill("#f-first-name", "Ada")
    no_js.fill("#f-email", "ada@example.com")
    no_js.check("#f-data-plan-2")
    no_js.check("#f-consent")
    no_js.click("button[type=submit]")
    expect(no_js.locator(".done")).to_contain_text("See you soon!")

    db.session.rollback()
    db.session.expire_all()
    lead = db.session.scalar(db.select(Lead))
    assert (lead.first_name, lead.email) == ("Ada", "ada@example.com")
    assert lead.source_url == f"{live_server}/r/{origin.ref}?utm_source=flyer&utm_medium=print"
    assert (lead.utm_source, lead.utm_medium) == ("flyer", "print")
    assert lead.consent["text"] == "Email me about the beta." and lead.opt_in


def test_without_javascript_the_redirect_reaches_another_site(
    no_js: Page, live_server: str, quick_forms: None
):
    with third_party_site() as site:
        site.pages["/thanks"] = "<!doctype html><title>Thanks</title><h1>Thanks!</h1>"
        origin = page_origin(form_fields=[{"field": "email"}], redirect_url=f"{site.url}/thanks")
        no_js.goto(f"{live_server}/r/{origin.ref}")
        no_js.fill("#f-email", "ada@example.com")
        no_js.wait_for_timeout(400)
        no_js.click("button[type=submit]")

        no_js.wait_for_url(f"{site.url}/thanks")  # a 303 that form-action allows
        expect(no_js.locator("h1")).to_have_text("Thanks!")


def test_without_javascript_a_redirect_to_a_site_form_action_does_not_list_is_followed(
    no_js: Page, live_server: str, quick_forms: None
):
    origin = page_origin(form_fields=[{"field": "email"}], redirect_url="https://a.example/")
    with third_party_site() as site:
        site.pages["/welcome"] = "<!doctype html><title>Welcome</title><h1>Welcome back</h1>"
        # A returning lead whose journey has its own redirect URL, on another site.
        first = LeadInput(email="ada@example.com", redirect_url=f"{site.url}/welcome")
        register(origin, first, RegistrationContext())
        no_js.goto(f"{live_server}/r/{origin.ref}")
        no_js.fill("#f-email", "ada@example.com")
        no_js.wait_for_timeout(400)
        no_js.click("button[type=submit]")

        no_js.wait_for_url(f"{site.url}/welcome")  # by the success page's meta refresh
        expect(no_js.locator("h1")).to_have_text("Welcome back")


def test_with_javascript_errors_swap_in_place_and_focus_the_first_one(
    page: Page, live_server: str, quick_forms: None
):
    origin = page_origin()
    page.goto(f"{live_server}/r/{origin.ref}")
    page.wait_for_timeout(400)

    page.fill("#f-data-seats", "lots")
    page.click("button[type=submit]")

    expect(page.locator("#f-first-name")).to_be_focused()
    expect(page.locator("#f-data-seats")).to_have_value("lots")
    expect(page.locator("#f-data-seats-error")).to_contain_text("Seats must be a number")
    expect(page).to_have_title("Error: Join the beta")
    page.fill("#f-first-name", "Ada")
    page.fill("#f-email", "ada@example.com")
    page.fill("#f-data-seats", "3")
    page.check("#f-data-plan-1")
    page.click("button[type=submit]")
    expect(page.locator(".done")).to_be_focused()

    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(db.select(Lead.email)) == "ada@example.com"


def test_with_javascript_a_choice_left_empty_gets_the_focus_on_its_first_radio(
    page: Page, live_server: str, quick_forms: None
):
    origin = page_origin(form_fields=[{"data_point": "plan", "widget": "radios", "required": True}])
    page.goto(f"{live_server}/r/{origin.ref}")
    page.wait_for_timeout(400)

    page.click("button[type=submit]")

    expect(page.locator("#f-data-plan-1")).to_be_focused()
    expect(page.get_by_role("radiogroup")).to_have_attribute("aria-invalid", "true")


def test_a_honeypot_hit_is_held_and_thanked_without_promising_an_email(
    page: Page, live_server: str, quick_forms: None
):
    origin = page_origin(form_fields=[{"field": "email"}], success_message="Welcome!")
    page.goto(f"{live_server}/r/{origin.ref}")
    page.wait_for_timeout(400)

    page.fill("#f-email", "bot@example.com")
    page.locator("#f-website").fill("http://buy-now.example", force=True)
    page.click("button[type=submit]")

    expect(page.locator(".done")).to_contain_text("Welcome!")
    expect(page.locator(".done")).to_contain_text("once we have checked them")
    db.session.rollback()
    db.session.expire_all()
    lead = db.session.scalar(db.select(Lead))
    assert lead.held and lead.email == "bot@example.com"


def axe_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run()")
    return [v for v in results["violations"] if v["impact"] in ("serious", "critical")]


def test_the_hosted_page_has_no_serious_accessibility_violations(
    axe_context: BrowserContext, live_server: str, quick_forms: None
):
    origin = page_origin()
    page = axe_context.new_page()
    page.goto(f"{live_server}/r/{origin.ref}")
    assert axe_violations(page) == []

    page.wait_for_timeout(400)
    page.click("button[type=submit]")  # the page with its errors shown
    expect(page.locator(".error-summary")).to_be_visible()
    found = axe_violations(page)

    assert found == [], json.dumps(found, indent=1)[:3000]


def test_the_embed_form_has_no_serious_accessibility_violations(
    axe_context: BrowserContext, live_server: str
):
    ws = factories.workspace()
    funnel = factories.staged_funnel(ws)
    origin = factories.origin(funnel, OriginKind.EMBED, allowed_domains=["http://127.0.0.1:*"])
    page = axe_context.new_page()
    page.goto(f"{live_server}/embed/{origin.ref}")

    found = axe_violations(page)

    assert found == [], json.dumps(found, indent=1)[:3000]
