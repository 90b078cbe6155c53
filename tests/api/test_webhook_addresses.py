"""Webhook URLs are checked when saved, as the HTTP client checks them when it connects: the
host normalised as the resolver reads it, resolved, and every address classified. Every door
that saves one (webhooks API, settings page, a registration's WebhookInput, a funnel's webhook
activity) refuses loopback written in any of its disguises."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from leadsite import values
from leadsite.extensions import db
from leadsite.models import Activity, WebhookEndpoint
from leadsite.outbox import http
from tests import factories
from tests.api.conftest import ApiWorld
from tests.bad_values import FULL_WIDTH_DIGITS, FULL_WIDTH_DOTS, IDEOGRAPHIC_DOTS
from tests.conftest import csrf_token

PRIVATE_URLS = [
    "http://0/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://127.1/",
    f"http://{FULL_WIDTH_DIGITS}/",
    f"http://{FULL_WIDTH_DOTS}/",
    f"http://{IDEOGRAPHIC_DOTS}/",
    "http://[::127.0.0.1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[2002:7f00:1::]/",
    "http://localhost./",
    "http://169.254.169.254/latest/meta-data",
    "http://metadata.google.internal/",
    f"http://{socket.gethostname()}/hooks",
    f"http://{socket.gethostname().upper()}:8080/hooks",
]
IDS = [url.encode("unicode_escape").decode() for url in PRIVATE_URLS]
# A literal public address, and a name no resolver knows (DNS may be down: the connection
# checks it again).
PUBLIC_URLS = ["https://93.184.215.14/hooks", "https://hooks.example.invalid/leads"]


@pytest.fixture
def public_only(app) -> Iterator[None]:
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    yield
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True


@pytest.mark.parametrize("url", PRIVATE_URLS, ids=IDS)
def test_the_save_time_check_refuses_every_disguise_of_a_private_host(url):
    assert http.refusal(values.parse_url(url)) is not None


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_the_save_time_check_passes_a_public_address_and_an_unknown_name(url):
    assert http.refusal(values.parse_url(url)) is None


@pytest.mark.parametrize("url", PRIVATE_URLS, ids=IDS)
def test_the_webhooks_api_refuses_them(api: ApiWorld, public_only, url):
    created = api.client.post("/api/v1/webhooks", headers=api.auth, json={"url": url})
    endpoint = factories.webhook_endpoint(api.workspace)
    changed = api.client.patch(
        f"/api/v1/webhooks/{endpoint.id}", headers=api.auth, json={"url": url}
    )

    for response in (created, changed):
        assert response.status_code == 422
        assert "must be a public address" in response.json["details"]["message"]
    db.session.expire_all()
    assert [e.url for e in db.session.scalars(db.select(WebhookEndpoint))] == [endpoint.url]


@pytest.mark.parametrize("url", PRIVATE_URLS, ids=IDS)
def test_a_registrations_webhook_input_refuses_them(api: ApiWorld, public_only, url):
    response = api.register({"Email": "ada@example.com", "WebhookInput": {"Url": url}})

    assert response.status_code == 422
    assert response.json["details"]["field"] == "webhook_input.url"


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_the_api_doors_accept_public_urls(api: ApiWorld, public_only, url):
    created = api.client.post("/api/v1/webhooks", headers=api.auth, json={"url": url})
    registered = api.register({"Email": "ada@example.com", "WebhookInput": {"Url": url}})

    assert (created.status_code, registered.status_code) == (201, 201)


def _post(client, path: str, data: dict[str, object]):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/p/")})


@pytest.mark.parametrize("url", PRIVATE_URLS, ids=IDS)
def test_the_settings_page_and_a_webhook_activity_refuse_them(client, auth, public_only, url):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    stage = factories.stage(factories.funnel(ws), "Welcome")
    activity_path = f"/p/funnels/edit/{stage.funnel_id}/stages/{stage.id}/activities/new"

    endpoint = _post(client, "/p/settings/webhooks", {"url": url, "events": ["lead.created"]})
    activity = _post(
        client, activity_path, {"kind": "webhook", "activity-title": "CRM", "activity-url": url}
    )

    for response in (endpoint, activity):
        assert response.status_code == 422
        assert "must be a public address" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEndpoint)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Activity)) == 0


@pytest.mark.parametrize(
    "url", [f"http://{FULL_WIDTH_DIGITS}:9/", f"http://{socket.gethostname()}:9/"]
)
def test_the_connection_refuses_them_too(url):
    with http.Client(1, allow_private=False) as client, pytest.raises(http.RefusedAddress):
        client.post(url, b"{}", {})
