"""Settings, webhooks: endpoints (secret shown once), deliveries, redelivery, secret rotation."""

from __future__ import annotations

import re

import pytest

from leadsite.extensions import db
from leadsite.models import MessageStatus, OutboxMessage, WebhookEndpoint, Workspace
from leadsite.outbox.event_types import WEBHOOK_EVENTS
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{40,}")
ENDPOINT = {
    "url": "https://hooks.example.com/leadsite",
    "description": "CRM",
    "events": ["lead.created", "journey.completed"],
    "active": "y",
}


def _sign_in(auth, ws: Workspace | None = None) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws).email)
    return ws


def _post(client, path: str, data: dict[str, object] | None = None, **kwargs: object):
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def _endpoints(ws: Workspace) -> list[WebhookEndpoint]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(WebhookEndpoint).filter_by(workspace_id=ws.id)))


def test_the_page_lists_endpoints_with_their_last_delivery(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws, description="CRM")
    factories.endpoint_attempt(endpoint, status_code=503)

    full = client.get("/p/settings/webhooks")
    partial = client.get("/p/settings/webhooks", headers=HTMX)

    body = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in body
    assert endpoint.url in body and "CRM" in body and ">HTTP 503 Service Unavailable</span>" in body
    assert f"{len(WEBHOOK_EVENTS)} of {len(WEBHOOK_EVENTS)}" in body
    assert partial.get_data(as_text=True).lstrip().startswith('<div id="webhooks"')


def test_a_new_endpoint_shows_its_secret_once(client, auth):
    ws = _sign_in(auth)

    response = _post(client, "/p/settings/webhooks", ENDPOINT, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div id="webhooks"')
    [endpoint] = _endpoints(ws)
    assert endpoint.secret in SECRET.findall(body) and body.count(endpoint.secret) == 1
    assert (endpoint.url, endpoint.description, endpoint.active) == (ENDPOINT["url"], "CRM", True)
    assert endpoint.events == ["lead.created", "journey.completed"] and endpoint.lead_id is None
    for path in ("/p/settings/webhooks", f"/p/settings/webhooks/{endpoint.id}"):
        assert endpoint.secret not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"url": ""}, "This field is required."),
        ({"url": "hooks.example.com"}, "The URL must be an absolute http:// or https:// URL."),
        ({"events": []}, "Choose at least one event."),
        ({"events": ["lead.deleted"]}, "&#39;lead.deleted&#39; is not a valid choice"),
        ({"description": "x" * 201}, "200"),
    ],
)
def test_an_invalid_endpoint_answers_422(client, auth, changes, message):
    ws = _sign_in(auth)

    response = _post(client, "/p/settings/webhooks", {**ENDPOINT, **changes}, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<form id="webhook-form"') and message in body
    assert _endpoints(ws) == []


def test_private_addresses_are_refused_unless_the_site_allows_them(client, auth, app):
    ws = _sign_in(auth)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        refused = _post(client, "/p/settings/webhooks", {**ENDPOINT, "url": "http://127.0.0.1/x"})
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True

    assert refused.status_code == 422
    assert "must be a public address" in refused.get_data(as_text=True)
    assert _endpoints(ws) == []


def test_the_endpoint_page_shows_each_attempt(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)
    failed = factories.endpoint_attempt(endpoint, status_code=500, response="boom", duration_ms=812)
    factories.endpoint_attempt(endpoint, status_code=200, success=True, response="ok")
    path = f"/p/settings/webhooks/{endpoint.id}"

    full = client.get(path)
    partial = client.get(path, headers=HTMX)

    body = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in body
    assert (
        ">HTTP 500 Internal Server Error</span>" in body
        and ">HTTP 200 OK</span>" in body
        and "812 ms" in body
    )
    assert "boom" in body and "answered 500" in body and "&#34;lead.created&#34;" in body
    assert f"webhook-id <code>{failed.message_id}</code>" in body
    assert f"/messages/{failed.message_id}/redeliver" in body
    assert partial.get_data(as_text=True).lstrip().startswith('<div id="webhook">')


def test_editing_an_endpoint(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)
    path = f"/p/settings/webhooks/{endpoint.id}"

    response = _post(
        client, path, {**ENDPOINT, "url": "https://new.example.com/hook"}, headers=HTMX
    )
    invalid = _post(client, path, {**ENDPOINT, "url": "nope"}, headers=HTMX)

    assert response.status_code == 200 and "Webhook endpoint saved." in response.get_data(
        as_text=True
    )
    assert invalid.status_code == 422
    assert invalid.get_data(as_text=True).lstrip().startswith('<form id="webhook-form"')
    [saved] = _endpoints(ws)
    assert saved.url == "https://new.example.com/hook" and saved.events == ENDPOINT["events"]


def test_disabling_and_enabling_an_endpoint(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws, consecutive_failures=4)
    path = f"/p/settings/webhooks/{endpoint.id}/active"

    _post(client, path, {"active": "0"}, headers=HTMX)
    [disabled] = _endpoints(ws)
    assert disabled.active is False and disabled.disabled_reason == "disabled by an administrator"
    response = _post(client, path, {"active": "1"})
    [enabled] = _endpoints(ws)
    assert enabled.active and enabled.disabled_reason is None and enabled.consecutive_failures == 0
    assert response.headers["Location"] == f"/p/settings/webhooks/{endpoint.id}"


def test_redeliver_queues_the_same_message_again(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)
    attempt = factories.endpoint_attempt(endpoint)
    path = f"/p/settings/webhooks/{endpoint.id}/messages/{attempt.message_id}/redeliver"

    response = _post(client, path, headers=HTMX)

    assert response.status_code == 200
    assert f"Message {attempt.message_id} queued again" in response.get_data(as_text=True)
    db.session.expire_all()
    message = db.session.get(OutboxMessage, attempt.message_id)
    assert message.status == MessageStatus.PENDING and message.locked_until is None


def test_rotating_an_endpoint_secret_shows_the_new_one_once_and_keeps_the_old_a_day(client, auth):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)
    old = endpoint.secret

    response = _post(client, f"/p/settings/webhooks/{endpoint.id}/rotate-secret", headers=HTMX)

    [rotated] = _endpoints(ws)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and SECRET.findall(body) == [rotated.secret]
    assert rotated.secret != old and rotated.previous_secret == old
    assert rotated.previous_secret_expires_at is not None
    assert "The previous secret signs too until" in body
    assert rotated.secret not in client.get(f"/p/settings/webhooks/{endpoint.id}").get_data(
        as_text=True
    )


def test_the_default_secret_can_be_seen_and_rotated(client, auth):
    ws = _sign_in(auth)
    old = ws.webhook_secret

    page = client.get("/p/settings/webhooks").get_data(as_text=True)
    response = _post(client, "/p/settings/webhook-secret/rotate", headers=HTMX)

    assert old in page and "Show the default secret" in page
    db.session.refresh(ws)
    assert ws.webhook_secret != old and ws.previous_webhook_secret == old
    assert ws.webhook_secret in response.get_data(as_text=True)


def test_ids_of_another_workspace_or_a_leads_own_endpoint_are_not_found(client, auth):
    ws = _sign_in(auth)
    mine = factories.webhook_endpoint(ws)
    theirs = factories.webhook_endpoint(factories.workspace())
    their_message = factories.endpoint_attempt(theirs).message_id
    other_endpoint_message = factories.endpoint_attempt(factories.webhook_endpoint(ws)).message_id
    leads_own = factories.webhook_endpoint(
        ws, "https://lead.example.com/own", lead_id=factories.lead(ws).id
    )

    for endpoint in (theirs, leads_own):
        base = f"/p/settings/webhooks/{endpoint.id}"
        assert client.get(base).status_code == 404
        for suffix in ("", "/active", "/rotate-secret"):
            assert _post(client, base + suffix, {**ENDPOINT, "active": "0"}).status_code == 404
    for message_id in (their_message, other_endpoint_message):
        path = f"/p/settings/webhooks/{mine.id}/messages/{message_id}/redeliver"
        assert _post(client, path).status_code == 404
    db.session.expire_all()
    assert db.session.get(OutboxMessage, their_message).status == MessageStatus.DEAD
    assert db.session.get(WebhookEndpoint, theirs.id).active
    assert leads_own.url not in client.get("/p/settings/webhooks").get_data(as_text=True)
