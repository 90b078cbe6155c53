"""Registering with the keyboard alone (Tab, typing, Enter), on the hosted page and through the
embed form inside another site: every input is reached in order, an error takes the focus to
the field to correct, and the form goes."""

from __future__ import annotations

from playwright.sync_api import Frame, Locator, Page, expect

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.public.sites import embed_page, third_party_site

FIELDS = [{"field": "first_name", "required": True}, {"field": "email"}]
MAX_TABS = 20


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until `target` has the focus, as a keyboard user moves through a page."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{MAX_TABS} presses of Tab never reached {target}")


def register_by_keyboard(page: Page, form: Page | Frame) -> None:
    """Fill the email only and send (Enter on the button): the missing first name takes the
    focus; type it, Tab to the button, Enter."""
    tab_to(page, form.locator("#f-first-name"))
    page.keyboard.press("Tab")
    expect(form.locator("#f-email")).to_be_focused()
    page.keyboard.type("ada@example.com")
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Sign up")).to_be_focused()
    page.keyboard.press("Enter")

    expect(form.locator(".error-summary")).to_contain_text("Enter your first name")
    expect(form.locator("#f-first-name")).to_be_focused()
    page.keyboard.type("Ada")
    page.keyboard.press("Enter")  # in a text input, as people do

    expect(form.locator(".done")).to_be_visible()
    expect(form.locator(".done")).to_be_focused()


def registered_names() -> list[tuple[str | None, str | None]]:
    db.session.rollback()
    db.session.expire_all()
    return [(lead.first_name, lead.email) for lead in db.session.scalars(db.select(Lead))]


def test_a_lead_registers_on_the_hosted_page_with_the_keyboard_alone(
    page: Page, live_server: str, quick_forms: None
):
    funnel = factories.staged_funnel(factories.workspace())
    origin = factories.origin(funnel, OriginKind.PAGE, form_fields=FIELDS)
    page.goto(f"{live_server}/r/{origin.ref}")

    register_by_keyboard(page, page)

    assert registered_names() == [("Ada", "ada@example.com")]


def test_a_lead_registers_through_the_embed_form_on_another_site_with_the_keyboard_alone(
    page: Page, live_server: str, quick_forms: None
):
    funnel = factories.staged_funnel(factories.workspace())
    origin = factories.origin(
        funnel, OriginKind.EMBED, form_fields=FIELDS, allowed_domains=["http://127.0.0.1:*"]
    )
    with third_party_site() as site:
        site.pages["/pricing"] = embed_page(live_server, origin.ref)
        page.goto(f"{site.url}/pricing")
        frame = page.locator("iframe").element_handle().content_frame()
        assert frame is not None
        frame.wait_for_selector("#lead-form")

        register_by_keyboard(page, frame)

    assert registered_names() == [("Ada", "ada@example.com")]
