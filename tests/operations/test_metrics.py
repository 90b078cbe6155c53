"""`/metrics`: Prometheus' text format, behind METRICS_TOKEN; registrations by origin and
outcome, latency by route, the outbox's depth and age, deliveries, worker lag, import progress."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from leadsite.monitoring import metrics
from leadsite.outbox import worker
from tests import factories
from tests.operations.conftest import ApiWorld
from tests.servers import webhook_receiver

TOKEN = "scrape-token-for-tests"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def token(app: Flask) -> Iterator[str]:
    app.config["METRICS_TOKEN"] = TOKEN
    yield TOKEN
    app.config["METRICS_TOKEN"] = None


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN])
def test_metrics_want_the_bearer_token(client, token, header):
    headers = {"Authorization": header} if header else {}

    response = client.get("/metrics", headers=headers)

    assert response.status_code == 401
    assert response.json["code"] == "UNAUTHORIZED"
    assert "leadsite_" not in response.get_data(as_text=True)


def test_registrations_are_counted_by_origin_and_outcome(api: ApiWorld, token):
    origin = api.origin.id
    before = scrape(api.client)

    assert api.register({"email": "ada@example.com"}).status_code == 201
    assert api.register({"email": "ada@example.com", "first_name": "Ada"}).status_code == 200
    assert api.register({"email": "not an email"}).status_code == 422
    after = scrape(api.client)

    def counted(outcome: str) -> float:
        name = "leadsite_registrations_total"
        return value(after, name, origin=origin, outcome=outcome) - value(
            before, name, origin=origin, outcome=outcome
        )

    assert (counted("created"), counted("updated"), counted("rejected")) == (1, 1, 1)


def test_request_latency_is_by_route_not_by_path(api: ApiWorld, token):
    name = "leadsite_request_duration_seconds_count"
    route = {"endpoint": "api.get_lead", "method": "GET"}
    before = scrape(api.client)
    lead = api.register({"email": "ada@example.com"}).json["data"]["id"]

    api.get(f"/api/v1/leads/{lead}")
    api.get("/api/v1/leads/lead_doesnotexist")
    after = scrape(api.client)

    assert value(after, name, **route) - value(before, name, **route) == 2
    assert not [key for key in after if lead in str(key)]  # no id, no path in any label
    responses = "leadsite_responses_total"
    for status in ("2xx", "4xx"):
        labels = {**route, "status": status}
        assert value(after, responses, **labels) - value(before, responses, **labels) == 1


def test_outbox_depth_and_oldest_due_age_are_read_at_scrape_time(client, token):
    endpoint = factories.webhook_endpoint(factories.workspace())
    factories.waiting_message(endpoint, due_in=-timedelta(minutes=5))
    factories.waiting_message(endpoint, due_in=-timedelta(minutes=1))
    factories.waiting_message(endpoint, attempts=2, due_in=timedelta(hours=1))

    samples = scrape(client)

    assert value(samples, "leadsite_database_up") == 1
    assert value(samples, "leadsite_outbox_messages", state="due") == 2
    assert value(samples, "leadsite_outbox_messages", state="scheduled") == 1
    assert value(samples, "leadsite_outbox_messages", state="dead") == 0
    assert 300 <= value(samples, "leadsite_outbox_oldest_due_age_seconds") < 330


def test_deliveries_are_counted_by_outcome_with_the_worker_lag(client, token):
    with webhook_receiver(statuses=[200, 503]) as receiver:
        endpoint = factories.webhook_endpoint(factories.workspace(), url=receiver.url)
        factories.waiting_message(endpoint, due_in=-timedelta(minutes=2))
        factories.waiting_message(endpoint, due_in=-timedelta(minutes=2))
        before = scrape(client)
        assert worker.deliver_messages() == 2
        after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("leadsite_deliveries_total", channel="webhook", outcome="delivered") == 1
    assert delta("leadsite_deliveries_total", channel="webhook", outcome="retry") == 1
    assert delta("leadsite_worker_lag_seconds_count", channel="webhook") == 2
    assert 240 <= delta("leadsite_worker_lag_seconds_sum", channel="webhook") < 300
    assert value(after, "leadsite_outbox_messages", state="scheduled") == 1


def test_the_import_job_reports_its_progress(client, token):
    metrics.import_progress("imp_test", rows_done=500, rows_total=2000)
    metrics.import_progress("imp_test", rows_done=1000)

    samples = scrape(client)

    assert value(samples, "leadsite_import_rows", job="imp_test", state="done") == 1000
    assert value(samples, "leadsite_import_rows", job="imp_test", state="total") == 2000


def test_a_scrape_while_the_database_is_away_says_so(token, tmp_path):
    from tests.operations.conftest import outage_app

    broken = outage_app(f"sqlite:///{tmp_path}/missing/dir/x.db", METRICS_TOKEN=TOKEN)

    samples = scrape(broken.test_client())

    assert value(samples, "leadsite_database_up") == 0
    assert ("leadsite_outbox_messages", frozenset({("state", "due")})) not in samples


def test_a_worker_serves_its_own_metrics_on_its_port(app: Flask):
    from tests.servers import free_port

    port = free_port()
    app.config["WORKER_METRICS_PORT"] = port
    try:
        server = metrics.serve_worker(app)
    finally:
        app.config["WORKER_METRICS_PORT"] = 0
    assert server is not None
    try:
        metrics.count_delivery("email", "delivered", 0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()

    assert 'leadsite_deliveries_total{channel="email",outcome="delivered"}' in text
    assert 'leadsite_worker_lag_seconds_count{channel="email"}' in text
