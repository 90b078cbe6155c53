"""An API origin's page in Chromium: write a mapping, try a payload in place (htmx), save it,
and see the call it takes in the ingestion log, filtered by outcome."""

from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.models import Origin, OriginKind
from tests import factories

PAYLOAD = {"contact": {"email": "ada@example.com", "name": "Ada"}}


def _post_json(url: str, body: dict) -> int:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_map_try_save_then_see_the_call_in_the_log(page: Page, live_server: str):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.API)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/p/funnels/edit/{origin.funnel_id}/origins/{origin.id}")
    page.evaluate("window.stillHere = true")

    page.get_by_label("Field mapping").fill("email = contact.email\nfirst_name = contact.name")
    page.get_by_label("Payload").fill(json.dumps(PAYLOAD))
    page.get_by_role("button", name="Try it").click()
    result = page.locator("#try-result")
    expect(result).to_contain_text("ada@example.com")
    expect(result).to_contain_text("It would register.")
    assert page.evaluate("window.stillHere") is True  # swapped in place, no page load

    page.get_by_role("button", name="Save origin").click()
    expect(page.locator("#flash")).to_contain_text("saved")
    db.session.rollback()  # the server wrote from its own thread
    db.session.expire_all()
    hook = db.session.get(Origin, origin.id)
    assert hook.mapping == {"email": "contact.email", "first_name": "contact.name"}
    hook_url = f"{live_server}/hooks/{hook.ref}/{hook.hook_secret}"
    assert _post_json(hook_url, PAYLOAD) == 201
    assert _post_json(hook_url, {"contact": {"email": "broken"}}) == 422

    page.reload()
    log = page.locator("#origin-log")
    expect(log.locator(".log-entry")).to_have_count(2)
    page.evaluate("window.stillHere = true")
    log.get_by_label("Outcome").select_option("rejected")
    expect(page.locator("#origin-log .log-entry")).to_have_count(1)
    expect(page.locator("#origin-log")).to_contain_text("VALIDATION_ERROR")
    assert page.evaluate("window.stillHere") is True
    assert errors == []
