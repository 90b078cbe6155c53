"""Held leads in Chromium: a form sent too fast is thanked and held; staff find it and accept it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Journey, Lead, OriginKind
from tests import factories
from tests.browser.test_leads_inline import _sign_in


@pytest.fixture
def slow_minimum(app: Flask) -> Iterator[None]:
    """A minimum fill time no test fills a form within: every submission looks like a bot's."""
    app.config["PUBLIC_FORM_MIN_FILL_SECONDS"] = 600
    yield
    app.config["PUBLIC_FORM_MIN_FILL_SECONDS"] = "2"


def test_a_fast_submission_is_held_then_accepted_by_staff(
    page: Page, live_server: str, slow_minimum: None
):
    ws = factories.workspace()
    funnel = factories.staged_funnel(ws)
    origin = factories.origin(
        funnel, OriginKind.PAGE, form_fields=[{"field": "email"}], success_message="Welcome!"
    )

    page.goto(f"{live_server}/r/{origin.ref}")
    page.fill("#f-email", "quick@example.com")
    page.click("button[type=submit]")

    expect(page.locator(".done")).to_contain_text("once we have checked them")
    db.session.rollback()
    db.session.expire_all()
    lead = db.session.scalar(db.select(Lead))
    assert lead.held

    _sign_in(page, live_server, factories.user(ws), "/p/leads")
    page.get_by_role("link", name="1 held submission").click()
    page.get_by_role("link", name="—").click()  # the held lead gave no name
    expect(page.locator("#lead-held")).to_contain_text("looked like a bot")
    page.get_by_role("button", name="Accept and register").click()

    expect(page.locator("#flash")).to_contain_text("Accepted")
    expect(page.locator("#lead-held")).to_have_count(0)
    db.session.rollback()
    db.session.expire_all()
    assert not db.session.get(Lead, lead.id).held
    assert db.session.scalar(db.select(Journey.lead_id)) == lead.id
