"""Delivery logs, redelivery and secret rotation through the API."""

from __future__ import annotations

from standardwebhooks.webhooks import Webhook

from leadsite.extensions import db
from leadsite.models import MessageStatus, OutboxMessage
from leadsite.outbox import worker
from tests.servers import webhook_receiver


def test_attempts_are_listed_per_endpoint_and_per_lead_and_a_message_can_be_redelivered(api):
    with webhook_receiver(statuses=[500, 200, 200]) as receiver:
        endpoint = api.client.post(
            "/api/v1/webhooks",
            headers=api.auth,
            json={"url": receiver.url, "events": ["lead.created"]},
        ).json
        lead = api.register({"email": "d@example.com"}).json["data"]
        worker.run_once()

        by_endpoint = api.get(f"/api/v1/webhooks/{endpoint['data']['id']}/deliveries").json
        by_lead = api.get(f"/api/v1/leads/{lead['id']}/deliveries").json
        message_id = by_endpoint["data"][0]["message_id"]
        again = api.client.post(f"/api/v1/messages/{message_id}/redeliver", headers=api.auth)
        worker.run_once()
        receiver.wait_for(2)

    assert [a["status_code"] for a in by_endpoint["data"]] == [500]
    assert by_endpoint["data"][0]["response_excerpt"] == "status 500"
    assert by_lead["data"][0]["id"] == by_endpoint["data"][0]["id"]
    assert again.status_code == 200 and again.json["data"]["status"] == "pending"
    assert receiver.requests[1].headers["webhook-id"] == message_id
    assert db.session.get(OutboxMessage, message_id).status == MessageStatus.DELIVERED


def test_rotating_a_secret_signs_with_both_for_a_day(api):
    with webhook_receiver() as receiver:
        created = api.client.post(
            "/api/v1/webhooks",
            headers=api.auth,
            json={"url": receiver.url, "events": ["lead.created"]},
        ).json
        old_secret = created["data"]["secret"]
        rotated = api.client.post(
            f"/api/v1/webhooks/{created['data']['id']}/rotate-secret", headers=api.auth
        ).json
        api.register({"email": "r@example.com"})
        worker.run_once()
        received = receiver.wait_for(1)[0]

    assert rotated["data"]["secret"] != old_secret
    Webhook(rotated["data"]["secret"]).verify(received.body, received.headers)
    Webhook(old_secret).verify(received.body, received.headers)
