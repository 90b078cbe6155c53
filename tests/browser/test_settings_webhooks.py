"""An endpoint's page in Chromium: "Send test event" shows the exchange in place, and a waiting
message turns into its delivery attempt on screen, without a reload, once the worker sends it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from leadsite.outbox import worker
from tests import factories
from tests.browser.funnel_builder import shots
from tests.servers import webhook_receiver


def test_a_test_event_and_a_waiting_delivery_update_the_page_in_place(page: Page, live_server: str):
    ws = factories.workspace("Acme")
    person = factories.user(ws)
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server}/p/")

    with webhook_receiver() as receiver:
        endpoint = factories.webhook_endpoint(ws, url=receiver.url)
        message = factories.waiting_message(endpoint)
        page.goto(f"{live_server}/p/settings/webhooks/{endpoint.id}")
        page.evaluate("window.stillHere = true")
        waiting = page.locator(f"#{message.id}")
        expect(waiting).to_contain_text("pending")

        page.get_by_role("button", name="Send test event").click()
        expect(page.locator("#ping-result")).to_contain_text("Delivered")
        expect(page.locator("[data-ping-request]")).to_contain_text(f"POST {receiver.url}")
        expect(page.locator("[data-ping-response]")).to_contain_text("status 200")
        shots(page, "webhook-test-event")

        assert worker.run_once() == 1
        receiver.wait_for(2)

    expect(page.locator("#deliveries")).not_to_contain_text("Waiting to be sent")
    expect(page.locator(".attempt").first).to_contain_text("200")
    assert page.evaluate("window.stillHere") is True  # polled, not reloaded
    shots(page, "webhook-delivered-in-place")
    assert [r.headers["webhook-id"] == message.id for r in receiver.requests] == [False, True]
