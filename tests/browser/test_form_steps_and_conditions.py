"""A form built with conditions and steps, in Chromium: the hosted page with JavaScript (fields
hide and show as the lead answers, steps swap in place) and without it (each step is a page),
and the embed form inside another site."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, Page, expect

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.browser.funnel_builder import shot, shots
from tests.browser.test_public_hosted import axe_violations
from tests.public.sites import Site, embed_page
from tests.servers import eventually

FIELDS = [
    {"field": "first_name", "required": True},
    {
        "custom": "role",
        "type": "choice",
        "label": "I am a",
        "options": ["Buyer", "Seller"],
        "widget": "radios",
        "required": True,
    },
    {
        "custom": "budget",
        "type": "number",
        "label": "Budget",
        "required": True,
        "when": {"field": "custom.role", "op": "equals", "value": "Buyer"},
    },
    {"field": "email", "required": True, "step": True},
    {"consent": "terms", "label": "I agree to the terms.", "version": "t1", "required": True},
]


def _origin(kind: OriginKind = OriginKind.PAGE) -> object:
    funnel = factories.staged_funnel(factories.workspace())
    return factories.origin(
        funnel,
        kind,
        form_fields=FIELDS,
        allowed_domains=["http://127.0.0.1:*"],
        settings={"title": "Get a quote"},
    )


def _lead() -> Lead | None:
    db.session.rollback()  # the server wrote from its own thread
    return db.session.scalar(db.select(Lead))


def test_with_javascript_fields_follow_the_answers_and_steps_swap_in_place(
    page: Page, live_server: str, quick_forms: None
):
    origin = _origin()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/r/{origin.ref}")
    page.evaluate("window.stillHere = true")
    budget = page.get_by_label("Budget")

    expect(page.get_by_text("Step 1 of 2")).to_be_visible()
    expect(budget).to_be_hidden()
    expect(page.get_by_text("Only if")).to_be_hidden()
    page.get_by_label("Buyer").check()
    expect(budget).to_be_visible()
    page.get_by_label("Seller").check()
    expect(budget).to_be_hidden()
    page.get_by_label("Buyer").check()
    shot(page, "form-step1-390")
    page.get_by_role("button", name="Next").click()

    # Step 1 is checked on the server: the errors land on their fields, in place.
    expect(page.locator("#f-first-name-error")).to_contain_text("Enter your first name")
    expect(page.locator("#f-custom-budget-error")).to_be_visible()
    expect(page.get_by_label("First name")).to_be_focused()
    page.get_by_label("First name").fill("Ana")
    page.get_by_label("Budget").fill("5000")
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Budget")).to_have_value("5000")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("I agree to the terms.").check()
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, "form-step2-1280")
    page.get_by_role("button", name="Sign up").click()

    expect(page.locator(".done")).to_contain_text("Thank you")
    assert page.evaluate("window.stillHere") is True
    lead = _lead()
    assert (lead.first_name, lead.email) == ("Ana", "ana@example.com")
    assert lead.custom_fields == {"role": "Buyer", "budget": 5000}
    assert lead.consent["version"] == "t1"


def test_without_javascript_each_step_is_a_page_and_the_last_registers(
    no_js: Page, live_server: str, quick_forms: None
):
    page = no_js
    origin = _origin()
    page.goto(f"{live_server}/r/{origin.ref}")

    # Every field shows, the conditional one saying when it counts.
    expect(page.get_by_text("Only if “I am a” is Buyer.")).to_be_visible()
    page.get_by_label("First name").fill("Bo")
    page.get_by_label("Seller").check()
    page.get_by_label("Budget").fill("not asked")  # hidden by the answer: dropped, not refused
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    shots(page, "form-step2-no-js")
    assert _lead() is None
    page.get_by_label("Email").fill("bo@")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#f-email-error")).to_be_visible()
    expect(page.locator("#f-consent-terms-error")).to_contain_text("Tick the box")
    page.get_by_label("Email").fill("bo@example.com")
    page.get_by_label("I agree to the terms.").check()
    page.get_by_role("button", name="Sign up").click()

    expect(page.locator(".done")).to_contain_text("Thank you")
    lead = _lead()
    assert lead.first_name == "Bo" and lead.custom_fields == {"role": "Seller"}


def test_the_embed_form_goes_through_its_steps_inside_another_site(
    page: Page, live_server: str, site: Site, quick_forms: None
):
    origin = _origin(OriginKind.EMBED)
    site.pages["/"] = embed_page(live_server, origin.ref)
    page.goto(site.url)
    handle = page.locator("iframe").element_handle()
    frame = handle.content_frame()
    frame.wait_for_selector("#lead-form")

    frame.get_by_label("First name").fill("Cy")
    frame.get_by_label("Seller").check()
    expect(frame.get_by_label("Budget")).to_be_hidden()
    frame.get_by_role("button", name="Next").click()
    expect(frame.get_by_text("Step 2 of 2")).to_be_visible()
    frame.get_by_label("Email").fill("cy@example.com")
    frame.get_by_label("I agree to the terms.").check()
    frame.get_by_role("button", name="Sign up").click()

    expect(frame.locator(".done")).to_contain_text("Thank you")
    assert eventually(lambda: _lead() is not None)
    assert _lead().custom_fields == {"role": "Seller"}


def test_without_javascript_the_embed_form_goes_through_its_steps_in_its_frame(
    no_js: Page, live_server: str, site: Site, quick_forms: None
):
    page = no_js
    origin = _origin(OriginKind.EMBED)
    site.pages["/"] = (
        f'<!doctype html><title>Acme blog</title><iframe src="{live_server}/embed/{origin.ref}" '
        'title="Get a quote" style="width:100%;height:700px;border:0"></iframe>'
    )
    page.goto(site.url)
    frame = page.frame_locator("iframe")

    expect(frame.get_by_text("Only if “I am a” is Buyer.")).to_be_visible()
    frame.get_by_label("First name").fill("Di")
    frame.get_by_label("Buyer").check()
    frame.get_by_role("button", name="Next").click()
    expect(frame.locator("#f-custom-budget-error")).to_be_visible()  # shown: now required
    frame.get_by_label("Budget").fill("900")
    frame.get_by_role("button", name="Next").click()
    expect(frame.get_by_text("Step 2 of 2")).to_be_visible()
    shots(page, "embed-step2-no-js")
    assert _lead() is None
    frame.get_by_label("Email").fill("di@example.com")
    frame.get_by_label("I agree to the terms.").check()
    frame.get_by_role("button", name="Sign up").click()

    expect(frame.locator(".done")).to_contain_text("Thank you")
    lead = _lead()
    assert lead.first_name == "Di" and lead.custom_fields == {"role": "Buyer", "budget": 900}
    assert lead.source_url == f"{site.url}/"


def test_the_steps_have_no_serious_accessibility_violations(
    browser: Browser, live_server: str, quick_forms: None
):
    origin = _origin()
    context = browser.new_context(bypass_csp=True)  # to inject axe-core inline
    page = context.new_page()
    page.goto(f"{live_server}/r/{origin.ref}")
    page.get_by_label("Buyer").check()
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".error-summary")).to_be_visible()
    on_errors = axe_violations(page)
    page.get_by_label("First name").fill("Ana")
    page.get_by_label("Budget").fill("1")
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Step 2 of 2")).to_be_visible()
    on_step_2 = axe_violations(page)
    context.close()

    assert on_errors == [] and on_step_2 == [], json.dumps(on_errors + on_step_2)[:3000]
