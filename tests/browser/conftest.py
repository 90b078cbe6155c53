"""Browser tests: the app served on a real port, driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

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


@pytest.fixture(scope="session")
def _server_url(app: Flask) -> Iterator[str]:
    """The test app on 127.0.0.1 and a free port, in a thread, for the whole session."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask, _server_url: str) -> Iterator[str]:
    """The served app's base URL; links the app makes point at it during the test."""
    app.config["BASE_URL"] = _server_url
    yield _server_url
    app.config["BASE_URL"] = "http://localhost"


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
