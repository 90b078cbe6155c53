"""New lead in Chromium with the email of a known lead: staff open that lead, or update it on
purpose; nothing is overwritten before they choose."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Lead
from tests import factories
from tests.browser.test_leads_inline import _sign_in


def _new_lead_for_a_known_email(page: Page, live_server: str) -> Lead:
    """Signed in on the list, the inline form sent with the email of Ada King, named Grace."""
    ws = factories.workspace()
    factories.funnel(ws)
    known = factories.lead(ws, email="ada@example.com", first_name="Ada", last_name="King")
    _sign_in(page, live_server, factories.user(ws), "/p/leads")
    page.get_by_role("link", name="New lead").click()
    form = page.locator("#lead-new")
    form.get_by_label("First name").fill("Grace")
    form.get_by_label("Email", exact=True).fill("ada@example.com")
    form.get_by_role("button", name="Save lead").click()
    expect(form.get_by_role("alert")).to_contain_text("Ada King is already a lead.")
    return known


def _first_name(lead: Lead) -> str | None:
    db.session.rollback()  # the server wrote from its own thread
    return db.session.scalar(db.select(Lead.first_name).filter_by(id=lead.id))


def test_a_known_email_offers_to_open_that_lead(page: Page, live_server: str):
    known = _new_lead_for_a_known_email(page, live_server)

    page.locator("#lead-new").get_by_role("link", name="Open the existing lead").click()

    expect(page).to_have_url(f"{live_server}/p/leads/{known.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada King")
    assert _first_name(known) == "Ada"


def test_enter_in_a_field_asks_again_and_updates_nothing(page: Page, live_server: str):
    known = _new_lead_for_a_known_email(page, live_server)
    first_name = page.locator("#lead-new").get_by_label("First name")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        first_name.press("Enter")

    assert answer.value.status == 422  # asked again, not saved
    expect(page.locator("#lead-new").get_by_role("alert")).to_contain_text("already a lead")
    assert _first_name(known) == "Ada"


def test_a_known_lead_is_updated_when_staff_choose_to(page: Page, live_server: str):
    known = _new_lead_for_a_known_email(page, live_server)

    page.locator("#lead-new").get_by_role("button", name="Update Ada King").click()

    expect(page.locator("#flash")).to_contain_text("was already a lead: their record was updated")
    expect(page.locator(f"#row-{known.id}")).to_contain_text("Grace King")
    assert _first_name(known) == "Grace"
