"""The API as a browser meets it: Swagger UI offline, and a `fetch` from another site."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories

THIRD_PARTY_PAGE = b"""<!doctype html><html><body><p id="out">waiting</p></body></html>"""


@pytest.fixture
def third_party_site() -> Iterator[str]:
    """A page of another site (another port), as a customer's website would be."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(THIRD_PARTY_PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


FETCH = """async ([url, key]) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: {'Accept': 'application/json', 'Content-Type': 'application/json',
              'Authorization': 'Bearer ' + key},
    body: JSON.stringify({"Email": "johndoe@gmail.com", "Firstname": "John"})});
  return [response.status, await response.json()];
}"""


def test_the_kohomai_fetch_from_an_allowed_site_registers_a_lead(
    page: Page, live_server: str, third_party_site: str
):
    ws = factories.workspace()
    funnel = factories.staged_funnel(ws)
    origin = factories.origin(funnel, OriginKind.API, allowed_domains=["http://127.0.0.1:*"])
    key = factories.publishable_key(ws, origin)  # what the origin's fetch snippet shows
    page.goto(third_party_site)

    status, body = page.evaluate(FETCH, [f"{live_server}/api/v1/leads?ref={origin.ref}", key])

    assert status == 201
    assert body["data"]["email"] == "johndoe@gmail.com"
    db.session.rollback()  # a new snapshot: the server wrote from another thread
    assert db.session.scalar(db.select(Lead.first_name)) == "John"


def test_a_fetch_from_a_site_not_allowed_is_blocked_by_the_browser(
    page: Page, live_server: str, third_party_site: str
):
    ws = factories.workspace()
    origin = factories.origin(
        factories.staged_funnel(ws), OriginKind.API, allowed_domains=["https://shop.example.com"]
    )
    key = factories.api_key(ws)
    page.goto(third_party_site)

    outcome = page.evaluate(
        f"async ([url, key]) => {{ try {{ await ({FETCH})([url, key]); return 'read'; }}"
        " catch (e) { return 'blocked'; } }",
        [f"{live_server}/api/v1/leads?ref={origin.ref}", key],
    )

    assert outcome == "blocked"


def test_swagger_ui_renders_every_operation_without_a_csp_error(page: Page, live_server: str):
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server}/api/docs")

    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() >= 15
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert problems == []
