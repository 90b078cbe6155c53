"""Browser tests: the app served on a real port, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from tests.public.sites import Site, third_party_site

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {
        "headless": True,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def quick_forms(app: Flask) -> Iterator[None]:
    """No minimum fill time: a test fills a form faster than any person, and a loaded machine
    must not turn that into a bot verdict (the minimum itself is tested in tests/public)."""
    before = app.config.get("PUBLIC_FORM_MIN_FILL_SECONDS")
    app.config["PUBLIC_FORM_MIN_FILL_SECONDS"] = 0
    yield
    if before is None:
        app.config.pop("PUBLIC_FORM_MIN_FILL_SECONDS", None)
    else:
        app.config["PUBLIC_FORM_MIN_FILL_SECONDS"] = before


@pytest.fixture
def no_js(browser: Browser) -> Iterator[Page]:
    """A page of a browser with JavaScript off."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def site() -> Iterator[Site]:
    """Another company's site, to embed our forms in."""
    with third_party_site() as served:
        yield served
