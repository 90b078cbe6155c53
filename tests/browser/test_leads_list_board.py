"""The leads list and board in Chromium: sorting, saved views, focus after "Load more" and
Save, Escape to cancel an inline edit, board drag-and-drop and its keyboard alternative."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from leadsite.extensions import db
from leadsite.leads.search import PAGE_SIZE
from leadsite.models import Lead, SavedView
from tests import factories
from tests.browser.funnel_builder import shots
from tests.browser.test_leads_inline import _sign_in

START = datetime(2026, 1, 1, tzinfo=UTC)


def _status(lead: Lead) -> str:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(db.select(Lead.status).filter_by(id=lead.id))


def _names(page: Page) -> list[str]:
    return page.locator("#lead-rows td[data-col=name]").all_inner_texts()


def test_a_heading_sorts_the_list_and_a_second_click_reverses_it(page: Page, live_server: str):
    ws = factories.workspace()
    for index, name in enumerate(["Grace", "Ada", "Linus"]):
        factories.lead(ws, first_name=name, created_at=START + timedelta(days=index))
    _sign_in(page, live_server, factories.user(ws), "/p/leads")
    expect(page.locator("#lead-rows tr")).to_have_count(3)
    assert _names(page) == ["Linus", "Ada", "Grace"]  # newest first

    page.get_by_role("link", name="Name", exact=True).click()
    expect(page.locator("th[data-col=name]")).to_have_attribute("aria-sort", "ascending")
    assert _names(page) == ["Ada", "Grace", "Linus"]

    page.locator("th[data-col=name] a").click()  # "Name ↑": the arrow is hidden from readers
    expect(page.locator("th[data-col=name]")).to_have_attribute("aria-sort", "descending")
    assert _names(page) == ["Linus", "Grace", "Ada"]


def test_saving_a_view_keeps_focus_on_it_and_the_view_brings_the_list_back(
    page: Page, live_server: str
):
    ws = factories.workspace()
    factories.lead(ws, first_name="Ada", status="new")
    factories.lead(ws, first_name="Grace", status="lost")
    _sign_in(page, live_server, factories.user(ws), "/p/leads")

    page.locator("#status").select_option("lost")
    expect(page.locator("#lead-rows tr")).to_have_count(1)
    page.locator(".column-chooser summary").click()
    page.get_by_label("Phone").uncheck()
    expect(page.locator("#lead-table")).to_have_attribute("data-hide", "phone")
    page.locator(".column-chooser summary").click()  # closes the menu
    page.locator(".save-view summary").click()
    page.get_by_label("Name", exact=True).fill("Lost ones")
    page.get_by_label("Name", exact=True).press("Enter")

    link = page.get_by_role("link", name="Lost ones")
    expect(link).to_be_focused()
    expect(page.locator("#flash")).to_contain_text("View “Lost ones” saved.")
    shots(page, "saved-view")
    db.session.rollback()
    db.session.expire_all()
    view = db.session.scalar(db.select(SavedView))
    assert view.filters == {"status": "lost"} and "phone" not in view.columns

    page.goto(f"{live_server}/p/leads")
    expect(page.locator("#lead-rows tr")).to_have_count(2)
    page.get_by_role("link", name="Lost ones").click()
    expect(page.locator("#lead-rows tr")).to_have_count(1)
    expect(page.locator("#lead-rows")).to_contain_text("Grace")
    expect(page.locator("td[data-col=phone]").first).to_be_hidden()


def test_load_more_puts_focus_on_the_first_new_row(page: Page, live_server: str):
    ws = factories.workspace()
    for index in range(PAGE_SIZE + 2):
        factories.lead(ws, first_name=f"P{index:03d}", created_at=START + timedelta(minutes=index))
    _sign_in(page, live_server, factories.user(ws), "/p/leads")

    page.get_by_role("link", name="Load more").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#lead-rows tr")).to_have_count(PAGE_SIZE + 2)
    expect(page.get_by_role("link", name="P001", exact=True)).to_be_focused()


def test_escape_cancels_an_inline_edit(page: Page, live_server: str):
    ws = factories.workspace()
    lead = factories.lead(ws, first_name="Ada", status="new")
    _sign_in(page, live_server, factories.user(ws), f"/p/leads/{lead.id}")

    page.get_by_role("link", name="Edit status").click()
    field = page.locator("#lead-status").get_by_label("Status")
    field.select_option("lost")
    field.press("Escape")

    expect(page.locator("#lead-status form")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit status")).to_be_visible()
    assert _status(lead) == "new"


def test_a_card_dragged_to_another_column_changes_status_and_keeps_focus(
    page: Page, live_server: str
):
    ws = factories.workspace()
    lead = factories.lead(ws, first_name="Ada", status="new")
    _sign_in(page, live_server, factories.user(ws), "/p/leads/board")

    card = page.locator(f"#card-{lead.id}")
    target = page.locator('.board-cards[data-status="qualified"]')
    box, drop = card.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(drop["x"] + 30, drop["y"] + 20, steps=12)
    page.mouse.up()

    expect(page.locator("#flash")).to_contain_text("Ada moved to “Qualified”.")
    expect(target.locator(f"#card-{lead.id}")).to_be_visible()
    expect(target.get_by_role("link", name="Ada")).to_be_focused()
    expect(page.locator("section", has=target).locator(".board-count")).to_have_text("1")
    assert _status(lead) == "qualified"


def test_a_card_moves_by_keyboard_and_keeps_focus(page: Page, live_server: str):
    ws = factories.workspace()
    lead = factories.lead(ws, first_name="Ada", status="new")
    _sign_in(page, live_server, factories.user(ws), "/p/leads/board")

    page.get_by_label("Status of Ada").select_option("customer")
    page.get_by_role("button", name="Move Ada").press("Enter")

    column = page.locator('.board-cards[data-status="customer"]')
    expect(column.get_by_role("link", name="Ada")).to_be_focused()
    shots(page, "board-moved-by-keyboard")
    assert _status(lead) == "customer"


# Each request leaves a second late, as over a slow network: time to move the focus meanwhile.
SLOW_REQUESTS = """() => {
  const fetch = window.fetch;
  const late = () => new Promise((done) => setTimeout(done, 1000));
  window.fetch = (...args) => late().then(() => fetch(...args));
}"""


def test_a_focus_moved_while_a_view_is_saved_stays_where_it_went(page: Page, live_server: str):
    """The saved view's link takes the focus from its name's field, not from wherever the person
    has gone while the request was on its way."""
    ws = factories.workspace()
    factories.lead(ws, first_name="Ada")
    _sign_in(page, live_server, factories.user(ws), "/p/leads")
    page.evaluate(SLOW_REQUESTS)

    page.locator(".save-view summary").click()
    page.get_by_label("Name", exact=True).fill("Everyone")
    page.get_by_label("Name", exact=True).press("Enter")
    page.keyboard.press("Tab")
    share = page.get_by_label("Share with the workspace")
    expect(share).to_be_focused()

    expect(page.get_by_role("link", name="Everyone")).to_be_visible()
    expect(page.locator("#flash")).to_contain_text("View “Everyone” saved.")
    expect(share).to_be_focused()


def test_a_focus_moved_while_more_rows_load_stays_where_it_went(page: Page, live_server: str):
    ws = factories.workspace()
    for index in range(PAGE_SIZE + 2):
        factories.lead(ws, first_name=f"P{index:03d}", created_at=START + timedelta(minutes=index))
    _sign_in(page, live_server, factories.user(ws), "/p/leads")
    page.evaluate(SLOW_REQUESTS)

    page.get_by_role("link", name="Load more").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Shift+Tab")
    last = page.get_by_role("link", name="P002", exact=True)
    expect(last).to_be_focused()

    expect(page.locator("#lead-rows tr")).to_have_count(PAGE_SIZE + 2)
    expect(last).to_be_focused()


def test_the_board_and_the_list_work_without_javascript(browser: Browser, live_server: str):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    ws = factories.workspace()
    lead = factories.lead(ws, first_name="Ada", status="new")
    factories.lead(ws, first_name="Grace", status="lost")
    _sign_in(page, live_server, factories.user(ws), "/p/leads/board")

    page.get_by_label("Status of Ada").select_option("contacted")
    page.get_by_role("button", name="Move Ada").click()
    expect(page.locator('.board-cards[data-status="contacted"]')).to_contain_text("Ada")
    shots(page, "board-no-js")
    assert _status(lead) == "contacted"

    page.goto(f"{live_server}/p/leads")
    page.get_by_label("Sort").select_option("name")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"sort=name"))  # the click starts a navigation
    assert _names(page) == ["Ada", "Grace"]
    context.close()


def test_deleting_a_status_in_use_offers_to_move_its_leads(page: Page, live_server: str):
    ws = factories.workspace()
    lead = factories.lead(ws, first_name="Ada", status="contacted")
    _sign_in(page, live_server, factories.user(ws), "/p/settings/statuses")
    page.evaluate("window.marker = 'same page'")

    page.get_by_role("button", name="Delete Contacted").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "1 lead has “Contacted”: move them to another status to delete it."
    )
    page.get_by_label("Move its leads to").select_option("qualified")
    page.get_by_role("button", name="Move and delete Contacted").click()

    expect(page.locator("#flash")).to_contain_text(
        "1 lead moved to “Qualified”; status “Contacted” deleted."
    )
    expect(page.locator("#statuses")).not_to_contain_text("contacted")
    assert page.evaluate("window.marker") == "same page"
    assert _status(lead) == "qualified"


def test_a_status_badge_wears_its_own_colour_only(page: Page, live_server: str):
    """The badge's dot is the status's colour from Settings; the badge around it is neutral, not a
    colour of its own chosen by the key (a yellow "Contacted" round a purple dot)."""
    ws = factories.workspace()
    for status in ("new", "contacted", "customer"):
        factories.lead(ws, status=status)
    _sign_in(page, live_server, factories.user(ws), "/p/leads")

    badges = page.locator("td[data-col=status] .badge")
    expect(badges).to_have_count(3)
    backgrounds = badges.evaluate_all("all => all.map(b => getComputedStyle(b).backgroundColor)")
    dots = page.locator("td[data-col=status] .status-dot circle").evaluate_all(
        "all => all.map(c => c.getAttribute('fill'))"
    )

    assert len(set(backgrounds)) == 1, backgrounds
    assert len(set(dots)) == 3, dots
