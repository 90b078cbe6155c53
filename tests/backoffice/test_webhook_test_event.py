"""Settings, webhooks: "Send test event" (a signed ping, the exchange shown) and deliveries still
waiting, which the endpoint's page refreshes while they wait."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from leadsite.extensions import db
from leadsite.models import (
    DeliveryAttempt,
    MessageStatus,
    OutboxMessage,
    WebhookEndpoint,
    Workspace,
)
from tests import factories
from tests.conftest import csrf_token
from tests.servers import webhook_receiver

HTMX = {"HX-Request": "true"}


def _sign_in(auth) -> Workspace:
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    return ws


def _send_test(client, endpoint: WebhookEndpoint, **kwargs: object):
    return client.post(
        f"/p/settings/webhooks/{endpoint.id}/test",
        data={"csrf_token": csrf_token(client, "/p/")},
        **kwargs,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_test_event_is_a_signed_ping_shown_with_its_answer(client, auth):
    ws = _sign_in(auth)
    with webhook_receiver() as receiver:
        endpoint = factories.webhook_endpoint(ws, url=receiver.url)
        response = _send_test(client, endpoint, headers=HTMX)
        received = receiver.wait_for(1)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="ping-result"')
    payload = Webhook(endpoint.secret).verify(received[0].body, received[0].headers)
    assert payload["type"] == "ping" and payload["data"]["endpoint_id"] == endpoint.id
    assert f"POST {receiver.url}" in body
    assert f"webhook-id: {received[0].headers['webhook-id']}" in body
    assert f"webhook-signature: {received[0].headers['webhook-signature']}" in body
    assert "&#34;type&#34;:&#34;ping&#34;" in body  # the body as sent
    assert "Content-Type: text/plain" in body and "status 200" in body  # the answer
    assert "Delivered: the endpoint acknowledged it." in body
    # Not a delivery: no message, no attempt, the endpoint's record untouched.
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 0
    assert db.session.scalar(db.select(db.func.count(DeliveryAttempt.id))) == 0


def test_without_javascript_the_test_event_answers_with_the_whole_page(client, auth):
    ws = _sign_in(auth)
    with webhook_receiver() as receiver:
        endpoint = factories.webhook_endpoint(ws, url=receiver.url, active=False)
        response = _send_test(client, endpoint)
        received = receiver.wait_for(1)

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert len(received) == 1  # a disabled endpoint can be tested before it is enabled
    assert "Delivered: the endpoint acknowledged it." in body and "Delivery attempts" in body


def test_a_test_event_refused_by_the_endpoint_says_so(client, auth):
    ws = _sign_in(auth)
    with webhook_receiver(statuses=[500]) as receiver:
        endpoint = factories.webhook_endpoint(ws, url=receiver.url)
        body = _send_test(client, endpoint, headers=HTMX).get_data(as_text=True)

    assert "The endpoint answered 500: only a 2xx status counts as delivered." in body
    assert "status 500" in body
    db.session.refresh(endpoint)
    assert endpoint.consecutive_failures == 0 and endpoint.active


def test_a_test_event_nobody_answers_says_why(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws, url=f"http://127.0.0.1:{_free_port()}/hook")

    response = _send_test(client, endpoint, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "No answer. The server refused the connection: check that it is running on that port."
        in body
    )
    assert "Errno" not in body and "Connection refused" not in body  # a sentence, not an exception
    assert f"POST {endpoint.url}" in body and "data-ping-response" not in body
    assert "No response came back: the request did not reach the endpoint" in body
    assert "None." not in body


def test_a_test_event_to_a_private_address_is_not_sent(app, client, auth):
    ws = _sign_in(auth)
    with webhook_receiver() as receiver:
        endpoint = factories.webhook_endpoint(ws, url=receiver.url)
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
        try:
            body = _send_test(client, endpoint, headers=HTMX).get_data(as_text=True)
        finally:
            app.config["WEBHOOK_ALLOW_PRIVATE"] = True

    assert "Not sent: 127.0.0.1 resolves to a non-public address (127.0.0.1)" in body
    assert receiver.requests == []


def test_another_workspaces_endpoint_cannot_be_tested(client, auth):
    _sign_in(auth)
    with webhook_receiver() as receiver:
        theirs = factories.webhook_endpoint(factories.workspace(), url=receiver.url)
        response = _send_test(client, theirs, headers=HTMX)

    assert response.status_code == 404
    assert receiver.requests == []


def test_waiting_messages_are_listed_and_polled_until_none_waits(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)
    message = factories.waiting_message(endpoint)
    page_url = f"/p/settings/webhooks/{endpoint.id}"

    page = client.get(page_url).get_data(as_text=True)
    polled = client.get(f"{page_url}/deliveries", headers=HTMX).get_data(as_text=True)
    message.status = MessageStatus.DELIVERED
    db.session.commit()
    done = client.get(f"{page_url}/deliveries", headers=HTMX).get_data(as_text=True)

    assert "Waiting to be sent" in page and message.id in page and "pending" in page
    assert f'hx-get="{page_url}/deliveries" hx-trigger="every 2s"' in page
    assert f'<a href="{page_url}">Refresh</a>' in page  # without JavaScript
    assert polled.lstrip().startswith('<div id="deliveries" hx-get=')
    assert done.lstrip().startswith('<div id="deliveries">')  # no trigger: polling stops
    assert "Waiting to be sent" not in done


def test_a_retry_far_off_is_polled_seldom(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)
    factories.waiting_message(endpoint, attempts=3, due_in=timedelta(hours=2))

    page = client.get(f"/p/settings/webhooks/{endpoint.id}").get_data(as_text=True)

    assert 'hx-trigger="every 30s"' in page
    assert "retrying" in page and "3 attempts so far" in page and "answered 503" in page


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_the_deliveries_part_is_a_page_for_browsers(client, auth, headers):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)

    response = client.get(f"/p/settings/webhooks/{endpoint.id}/deliveries", headers=headers)

    if headers:
        assert response.status_code == 200
        assert "Nothing sent yet" in response.get_data(as_text=True)
    else:
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/p/settings/webhooks/{endpoint.id}")
