"""The form builder's preview in Chromium: its frame is as tall as the form it shows, on a wide
screen and on a phone, and follows the form as fields are shown or hidden."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from leadsite.models import OriginKind
from tests import factories
from tests.browser.funnel_builder import shot


def _open_builder(page: Page, live_server: str, fields: list[str]) -> None:
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    funnel = factories.staged_funnel(ws)
    origin = factories.origin(funnel, OriginKind.PAGE, form_fields=[{"field": f} for f in fields])
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/p/funnels/edit/{funnel.id}/origins/{origin.id}")


def _shots(page: Page, name: str) -> None:
    """The whole page, and the preview alone, when SHOTS_DIR names a folder."""
    shot(page, name)
    if os.environ.get("SHOTS_DIR"):
        path = Path(os.environ["SHOTS_DIR"]) / f"{name}-preview.png"
        page.locator("#form-preview").screenshot(path=str(path), caret="initial")


def _frame(page: Page) -> Locator:
    frame = page.locator("#form-preview iframe")
    expect(frame.content_frame.get_by_role("heading", level=1)).to_be_visible()
    return frame


def _expect_frame_fits(page: Page) -> float:
    """The frame shows the whole form and no grey band below it (a pixel or two of rounding
    aside); returns its height. Polled: the frame is sized once its new page has loaded."""
    frame = _frame(page)
    content = frame.content_frame.locator("main").evaluate(
        "main => Math.ceil(main.getBoundingClientRect().bottom"
        " + parseFloat(getComputedStyle(main).marginBottom) + window.scrollY)"
    )
    deadline = time.monotonic() + 5
    while True:
        height = frame.evaluate("frame => frame.clientHeight")
        if abs(height - content) <= 2 or time.monotonic() > deadline:
            break
        page.wait_for_timeout(50)
    assert abs(height - content) <= 2, f"frame {height} px high for a page of {content} px"
    return height


@pytest.mark.parametrize("width", [1280, 390])
def test_the_preview_is_as_tall_as_a_short_form_and_follows_it(
    page: Page, live_server: str, width: int
):
    page.set_viewport_size({"width": width, "height": 900})
    _open_builder(page, live_server, ["email"])

    short = _expect_frame_fits(page)
    _shots(page, f"form-preview-short-{width}")

    page.locator('.builder-item[data-name="first_name"]').locator(".builder-show input").check()
    expect(
        page.locator("#form-preview iframe").content_frame.get_by_label("First name")
    ).to_be_visible()
    taller = _expect_frame_fits(page)
    assert taller > short + 40

    page.locator('.builder-item[data-name="first_name"]').locator(".builder-show input").uncheck()
    expect(
        page.locator("#form-preview iframe").content_frame.get_by_label("First name")
    ).to_have_count(0)
    assert _expect_frame_fits(page) == pytest.approx(short, abs=2)


def test_the_preview_fits_again_when_the_window_narrows(page: Page, live_server: str):
    page.set_viewport_size({"width": 1280, "height": 900})
    _open_builder(page, live_server, ["email"])
    page.get_by_label("Introduction").fill("A sentence long enough to wrap onto more lines. " * 6)
    expect(_frame(page).content_frame.locator(".intro")).to_be_visible()
    wide = _expect_frame_fits(page)

    page.set_viewport_size({"width": 390, "height": 900})  # the same frame, narrower

    assert _expect_frame_fits(page) > wide + 20
