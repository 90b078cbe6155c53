"""The leads list's filter bar at a phone's, a small laptop's and a desktop's width: every
select is wide enough to show its choice whole (Sort's "Newest first" was cut at 1280 px)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests import factories
from tests.browser.test_leads_inline import _sign_in

# What a select's text shares its width with: its padding, and the arrow Chromium draws at the
# end of its content box (about 18 px: "Status, Z to A", 110 px of text, shows whole in a
# 151 px select with 11.2 px of padding each side).
TEXT_ROOM = """select => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const arrow = 18;
  const room = select.clientWidth - parseFloat(style.paddingLeft)
    - parseFloat(style.paddingRight) - arrow;
  return {
    name: select.name,
    text: select.options[select.selectedIndex].text,
    width: Math.ceil(context.measureText(select.options[select.selectedIndex].text).width),
    room: Math.floor(room),
  };
}"""


@pytest.mark.parametrize("width", [390, 980, 1280])
def test_every_filter_shows_its_choice_whole(browser: Browser, live_server: str, width: int):
    ws = factories.workspace("Acme")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    _sign_in(page, live_server, factories.user(ws), "/p/leads?sort=-status")

    selects = page.locator("#lead-search select")
    measured = [selects.nth(i).evaluate(TEXT_ROOM) for i in range(selects.count())]
    context.close()

    assert {select["name"] for select in measured} >= {"status", "held", "sort"}
    assert [select for select in measured if select["width"] > select["room"]] == []
