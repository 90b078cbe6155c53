"""A KickoffLabs-style signup form on a customer's own page, posting without a key to
`/v2/<campaign>/`: Chromium sends it, the lead is registered, the visitor sees the thanks page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.public.sites import Site
from tests.servers import eventually


def _form_page(action: str, thanks: str) -> str:
    return (
        "<!doctype html><html><head><title>Join</title></head><body>"
        f'<form method="post" action="{action}">'
        f'<input type="hidden" name="redirect_url" value="{thanks}">'
        '<label>Email <input type="email" name="email" id="email"></label>'
        '<label>Company <input name="company" id="company"></label>'
        "<button type=submit>Join</button></form></body></html>"
    )


def test_a_keyless_form_on_an_allowed_site_registers_and_redirects(
    page: Page, live_server: str, site: Site
):
    funnel = factories.staged_funnel(factories.workspace())
    origin = factories.origin(
        funnel,
        OriginKind.API,
        allowed_domains=["http://127.0.0.1:*"],
        settings={"accept_keyless": True},
    )
    site.pages["/join"] = _form_page(f"{live_server}/v2/{origin.ref}/", f"{site.url}/thanks")
    site.pages["/thanks"] = "<!doctype html><title>Thanks</title><h1>Thanks for joining</h1>"

    page.goto(f"{site.url}/join")
    page.fill("#email", "ada@example.com")
    page.fill("#company", "Example Co")
    page.click("button[type=submit]")

    expect(page.locator("h1")).to_have_text("Thanks for joining")

    def registered() -> bool:
        db.session.expire_all()
        return db.session.scalar(db.select(Lead.email)) == "ada@example.com"

    assert eventually(registered)
    lead = db.session.scalars(db.select(Lead)).one()
    assert lead.custom_fields == {"company": "Example Co"}
