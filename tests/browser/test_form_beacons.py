"""Views and starts from real Chromium: the hosted page's GET and the embed's beacon, the first
field touched, once per page load; headless Chromium's own user agent is a bot's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from leadsite.models import OriginKind
from tests import factories
from tests.analytics.helpers import counts
from tests.public.sites import embed_page
from tests.servers import eventually

# What Chromium says outside headless mode; headless it says HeadlessChrome, a bot.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIELDS = [{"field": "first_name"}, {"field": "email"}]


@pytest.fixture
def person(browser: Browser) -> Iterator[Page]:
    """A page in a browser that presents itself as a person's Chrome."""
    context = browser.new_context(user_agent=DESKTOP_CHROME)
    yield context.new_page()
    context.close()


def form_origin(kind: OriginKind):
    funnel = factories.staged_funnel(factories.workspace())
    domains = ["http://127.0.0.1:*"] if kind == OriginKind.EMBED else []
    return factories.origin(funnel, kind, form_fields=FIELDS, allowed_domains=domains)


def test_the_hosted_page_counts_its_view_and_one_start_per_page_load(person, live_server):
    origin = form_origin(OriginKind.PAGE)
    url = f"{live_server}/r/{origin.ref}?utm_campaign=spring"

    person.goto(url, referer="https://news.example.com/story?id=7")
    assert counts(origin) == {("view", "", "news.example.com", "spring"): 1}
    person.click("#f-first-name")
    person.keyboard.type("Ada")
    person.fill("#f-email", "ada@example.com")
    assert eventually(lambda: ("start", "", "news.example.com", "spring") in counts(origin))

    person.reload()
    person.focus("#f-email")
    assert eventually(lambda: counts(origin).get(("start", "", "news.example.com", "spring")) == 2)
    assert counts(origin)[("view", "", "news.example.com", "spring")] == 2
    assert len(counts(origin)) == 2


def test_the_embed_counts_its_view_from_embed_js_and_a_start_from_the_frame(
    person, live_server, site
):
    origin = form_origin(OriginKind.EMBED)
    site.pages["/pricing"] = embed_page(live_server, origin.ref)

    person.goto(f"{site.url}/pricing?utm_campaign=fall", referer="https://www.google.com/")
    assert eventually(lambda: counts(origin) == {("view", "", "www.google.com", "fall"): 1})
    frame = person.frame_locator("iframe")
    frame.locator("#f-email").click()
    frame.locator("#f-email").type("ada")

    assert eventually(lambda: ("start", "", "www.google.com", "fall") in counts(origin))
    assert counts(origin) == {
        ("view", "", "www.google.com", "fall"): 1,
        ("start", "", "www.google.com", "fall"): 1,
    }


def test_headless_chromium_as_it_comes_is_not_counted(page: Page, live_server, site):
    hosted, embed = form_origin(OriginKind.PAGE), form_origin(OriginKind.EMBED)
    site.pages["/pricing"] = embed_page(live_server, embed.ref)

    def beacon() -> Any:  # the response to the next beacon, once the block has run
        return page.expect_response(lambda response: "/b/" in response.url)

    page.goto(f"{live_server}/r/{hosted.ref}")
    with beacon() as start:
        page.fill("#f-email", "ada@example.com")
    with beacon() as view:
        page.goto(f"{site.url}/pricing")
    with beacon() as embed_start:
        page.frame_locator("iframe").locator("#f-email").fill("ada@example.com")

    # Sent and answered, but not counted.
    assert [start.value.status, view.value.status, embed_start.value.status] == [204] * 3
    assert counts(hosted) == {} and counts(embed) == {}
