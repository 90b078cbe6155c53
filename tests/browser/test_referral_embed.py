"""A share link (`?kid=CODE`) to a page embedding the form: embed.js passes the code, and the
lead who signs up there is recorded as referred."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.public.sites import Site, embed_page
from tests.servers import eventually


def test_a_signup_through_a_share_link_to_an_embedding_page_is_referred(
    page: Page, live_server: str, site: Site, quick_forms: None
):
    funnel = factories.staged_funnel(factories.workspace())
    origin = factories.origin(
        funnel,
        OriginKind.EMBED,
        allowed_domains=["http://127.0.0.1:*"],
        form_fields=[{"field": "email", "required": True}],
    )
    ada = factories.registered(origin, email="ada@example.com")
    site.pages["/join"] = embed_page(live_server, origin.ref)

    page.goto(f"{site.url}/join?kid={ada.social_id}")
    frame_src = page.locator("iframe").get_attribute("src")
    frame = page.frame_locator("iframe")
    frame.locator("#f-email").fill("bob@example.com")
    frame.locator("button[type=submit]").click()
    expect(frame.locator(".done")).to_contain_text("Thank you")

    assert parse_qs(urlsplit(frame_src).query)["kid"] == [ada.social_id]

    def referred() -> bool:
        db.session.expire_all()
        return (
            db.session.scalar(db.select(Lead.referred_by).filter_by(email="bob@example.com"))
            == ada.id
        )

    assert eventually(referred)
    assert db.session.get(Lead, ada.id).referrals == 1
