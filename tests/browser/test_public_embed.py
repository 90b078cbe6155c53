"""The embed form inside another site, in Chromium: embed.js, frame height, attribution, CSP."""

from __future__ import annotations

from playwright.sync_api import Frame, Page, expect

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.public.sites import Site, embed_page
from tests.servers import eventually

LOCAL = ["http://127.0.0.1:*"]


def embed_origin(**fields: object):
    funnel = factories.staged_funnel(factories.workspace())
    fields.setdefault("allowed_domains", LOCAL)
    fields.setdefault("form_fields", [{"field": "first_name"}, {"field": "email"}])
    return factories.origin(funnel, OriginKind.EMBED, **fields)


def form_frame(page: Page, index: int = 0) -> Frame:
    handle = page.locator("iframe").nth(index).element_handle()
    frame = handle.content_frame() if handle else None
    assert frame is not None
    frame.wait_for_selector("#lead-form")
    return frame


def heights(page: Page, frame: Frame, index: int = 0) -> tuple[float, float]:
    """The iframe's height on the parent page, and the height of the form's content."""
    outer = page.locator("iframe").nth(index).evaluate("f => f.getBoundingClientRect().height")
    inner = frame.evaluate("document.querySelector('main').getBoundingClientRect().height")
    return outer, inner


def sized(page: Page, frame: Frame, index: int = 0) -> bool:
    outer, inner = heights(page, frame, index)
    return abs(outer - inner) <= 2


def test_embed_js_inserts_a_frame_sized_to_the_form_that_registers_with_the_parent_url(
    page: Page, live_server: str, site: Site, quick_forms: None
):
    origin = embed_origin()
    site.pages["/pricing"] = embed_page(live_server, origin.ref)
    page.goto(f"{site.url}/pricing?utm_source=newsletter&utm_campaign=spring")

    frame = form_frame(page)
    assert eventually(lambda: sized(page, frame))
    # The frame sits where the tag is: between the text before it and after it.
    order = page.evaluate(
        "[...document.body.querySelectorAll('p, iframe')].map(e => e.tagName).join()"
    )
    assert order == "P,IFRAME,P"
    before, _ = heights(page, frame)

    frame.fill("#f-email", "not an email")
    page.wait_for_timeout(400)
    frame.click("button[type=submit]")
    expect(frame.locator(".error-summary")).to_be_visible()
    assert eventually(lambda: sized(page, frame) and heights(page, frame)[0] > before + 20)
    expect(frame.locator("#f-email")).to_be_focused()

    frame.fill("#f-email", "ada@example.com")
    frame.fill("#f-first-name", "Ada")
    frame.click("button[type=submit]")
    expect(frame.locator(".done")).to_contain_text("Thank you")
    assert eventually(lambda: sized(page, frame))

    db.session.rollback()  # the server wrote from another thread
    lead = db.session.scalar(db.select(Lead))
    assert lead.email == "ada@example.com" and lead.first_name == "Ada"
    assert lead.source_url == f"{site.url}/pricing?utm_source=newsletter&utm_campaign=spring"
    assert (lead.utm_source, lead.utm_campaign) == ("newsletter", "spring")
    assert lead.origin_id == origin.id


def test_several_forms_on_one_page_each_work_and_are_sized(
    page: Page, live_server: str, site: Site, quick_forms: None
):
    short = embed_origin(form_fields=[{"field": "email"}])
    long = embed_origin(
        form_fields=[{"field": f} for f in ("first_name", "last_name", "phone", "email")]
    )
    site.pages["/"] = embed_page(live_server, short.ref, long.ref)
    page.goto(site.url)

    frames = [form_frame(page, 0), form_frame(page, 1)]
    assert eventually(lambda: sized(page, frames[0], 0) and sized(page, frames[1], 1))
    assert heights(page, frames[1], 1)[0] > heights(page, frames[0], 0)[0] + 100

    page.wait_for_timeout(400)
    frames[1].fill("#f-email", "grace@example.com")
    frames[1].click("button[type=submit]")
    expect(frames[1].locator(".done")).to_be_visible()
    expect(frames[0].locator("form")).to_be_visible()

    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(db.select(Lead.origin_id)) == long.id


def test_after_submit_the_redirect_url_opens_in_the_top_window(
    page: Page, live_server: str, site: Site, quick_forms: None
):
    origin = embed_origin(redirect_url=f"{site.url}/thanks")
    site.pages["/"] = embed_page(live_server, origin.ref)
    site.pages["/thanks"] = "<!doctype html><title>Thanks</title><h1>Thanks for signing up</h1>"
    page.goto(site.url)

    frame = form_frame(page)
    page.wait_for_timeout(400)
    frame.fill("#f-email", "ada@example.com")
    frame.click("button[type=submit]")

    page.wait_for_url(f"{site.url}/thanks")
    expect(page.locator("h1")).to_have_text("Thanks for signing up")


def test_a_site_not_in_the_allowed_domains_cannot_show_the_frame(
    page: Page, live_server: str, site: Site
):
    origin = embed_origin(allowed_domains=["http://localhost:*"])
    site.pages["/"] = embed_page(live_server, origin.ref)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    page.goto(site.url)
    page.wait_for_selector("iframe")

    assert eventually(lambda: any("frame-ancestors" in text for text in console), timeout=5)
    frame = page.locator("iframe").element_handle().content_frame()
    assert frame is None or frame.locator("form").count() == 0


def test_a_plain_iframe_shows_the_form_at_a_fixed_height_and_registers(
    page: Page, live_server: str, site: Site, quick_forms: None
):
    origin = embed_origin(
        form_fields=[{"field": f} for f in ("first_name", "last_name", "phone", "email")]
    )
    site.pages["/"] = (
        f'<!doctype html><iframe src="{live_server}/embed/{origin.ref}" title="Sign up" '
        'style="width:100%;height:300px;border:0"></iframe>'
    )
    page.goto(site.url)

    frame = form_frame(page)
    assert page.locator("iframe").evaluate("f => f.getBoundingClientRect().height") == 300
    assert frame.evaluate("document.documentElement.scrollHeight") > 300  # it scrolls
    page.wait_for_timeout(400)
    frame.fill("#f-email", "ada@example.com")
    frame.click("button[type=submit]")
    expect(frame.locator(".done")).to_be_visible()

    db.session.rollback()
    db.session.expire_all()
    assert db.session.scalar(db.select(Lead.source_url)) == f"{site.url}/"
