"""In Chromium: a site not allowed frames the embed, the browser's CSP report reaches us, the
origin's page names the site, and one click lets it show the form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import EmbedViolation, User, Workspace
from tests import factories
from tests.browser.funnel_builder import shots
from tests.browser.test_public_embed import embed_origin, form_frame
from tests.public.sites import Site, embed_page
from tests.servers import eventually


def _sign_in(page: Page, live_server: str, person: User) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")


def _reported() -> list[tuple[str, int]]:
    db.session.rollback()  # the server writes from its own thread
    return [(row.host, row.count) for row in db.session.scalars(db.select(EmbedViolation))]


def test_a_refused_site_is_named_on_the_origin_page_and_allowed_in_one_click(
    page: Page,
    live_server: str,
    site: Site,
):
    origin = embed_origin(allowed_domains=["http://localhost:*"])
    person = factories.user(db.session.get(Workspace, origin.workspace_id))
    site.pages["/"] = embed_page(live_server, origin.ref)

    page.goto(site.url)
    page.wait_for_selector("iframe")
    # Chromium sends a `report-uri` report as it refuses the frame.
    assert eventually(lambda: _reported() == [(site.url, 1)])

    _sign_in(page, live_server, person)
    page.goto(f"{live_server}/p/funnels/edit/{origin.funnel_id}/origins/{origin.id}")
    notice = page.locator("#embed-violations")
    expect(notice).to_contain_text(f"Blocked on {site.url} (not in allowed sites): 1 time")
    shots(page, "embed-blocked-on")
    notice.get_by_role("button", name=f"Allow {site.url}").click()

    expect(page.locator("#flash")).to_contain_text(f"{site.url} added to the allowed sites")
    expect(page.locator("#embed-violations")).to_have_count(0)
    expect(page.get_by_label("Allowed sites")).to_have_value(f"http://localhost:*\n{site.url}")
    shots(page, "embed-allowed-in-one-click")
    page.goto(site.url)
    expect(form_frame(page).locator("#lead-form")).to_be_visible()
    assert _reported() == []
