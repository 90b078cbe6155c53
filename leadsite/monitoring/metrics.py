"""Prometheus metrics: what the processes count, and `/metrics`, behind `METRICS_TOKEN`.

Counters and histograms live in each process. Under gunicorn, set `PROMETHEUS_MULTIPROC_DIR`
(an empty directory, the same for the web processes and any worker on the host) before the
processes start: each then writes its values to files there, and a scrape, whichever process
answers it, adds them all up (`prometheus_client.multiprocess`). What the database knows
(the outbox's depth, the age of its oldest due message) is read at scrape time
(`monitoring.collectors`), so it is the same whichever host is asked.

A worker on a host of its own serves its metrics on `WORKER_METRICS_PORT` (`serve_worker`).
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, abort, current_app, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from werkzeug.wrappers import Response

from leadsite.errors import api_error

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 1800.0, 7200.0)

REGISTRATIONS = Counter(
    "leadsite_registrations",
    "Calls that registered leads (or were refused), by origin and outcome",
    ["origin", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "leadsite_request_duration_seconds",
    "Time to answer a request, by route (the endpoint's name, not the path) and method",
    ["endpoint", "method"],
    buckets=LATENCY_BUCKETS,
)
RESPONSES = Counter(
    "leadsite_responses",
    "Answers, by route, method and status class (2xx, 4xx, 5xx...)",
    ["endpoint", "method", "status"],
)
DELIVERIES = Counter(
    "leadsite_deliveries",
    "Delivery attempts of outbox messages, by channel and outcome (delivered, retry, dead)",
    ["channel", "outcome"],
)
WORKER_LAG = Histogram(
    "leadsite_worker_lag_seconds",
    "From the time a message was due to the worker's attempt at it",
    ["channel"],
    buckets=LAG_BUCKETS,
)
IMPORT_ROWS = Gauge(
    "leadsite_import_rows",
    "Rows of a CSV import: total, and done so far",
    ["job", "state"],
    multiprocess_mode="mostrecent",
)


def count_registrations(origin_id: str, outcome: str, count: int = 1) -> None:
    """Count `count` registrations through an origin with this outcome (created, updated,
    rejected, held, error)."""
    REGISTRATIONS.labels(origin_id, outcome).inc(count)


def count_delivery(channel: str, outcome: str, lag_seconds: float) -> None:
    """Count an attempt at an outbox message, and how long after it was due it was made."""
    DELIVERIES.labels(channel, outcome).inc()
    WORKER_LAG.labels(channel).observe(max(lag_seconds, 0.0))


def import_progress(job_id: str, rows_done: int, rows_total: int | None = None) -> None:
    """What the import job reports after each chunk: rows done (and in all, once known)."""
    IMPORT_ROWS.labels(job_id, "done").set(rows_done)
    if rows_total is not None:
        IMPORT_ROWS.labels(job_id, "total").set(rows_total)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def render(include_database: bool = True) -> bytes:
    """Every metric in Prometheus' text format: this process's, or every process's on this
    host when multiprocess, then the database's."""
    if directory := multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if include_database:
        from leadsite.monitoring.collectors import DatabaseCollector

        database = CollectorRegistry(auto_describe=False)
        database.register(DatabaseCollector())
        text += generate_latest(database)
    return text


@bp.get("/metrics")
def metrics() -> Response:
    """The metrics, to a scraper bearing `METRICS_TOKEN`; a 404 while no token is set."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = api_error(401, "A bearer token is required", "UNAUTHORIZED")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    # The text format every Prometheus reads (what prometheus_client's own server answers
    # unless asked for another).
    return Response(render(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def _observe(response: Response) -> Response:
    started = g.get("request_started")  # set by `request_ids`, the first hook
    endpoint = request.endpoint or "unmatched"  # a 404 names no route: one series for all
    if started is not None:
        REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
    RESPONSES.labels(endpoint, request.method, f"{response.status_code // 100}xx").inc()
    _count_registration(response)
    return response


def _count_registration(response: Response) -> None:
    # The door's note (`api.ingest`): what the ingestion log records, counted here.
    from leadsite.api import ingest
    from leadsite.api.ingest_record import _outcome as outcome_of

    call = ingest.current()
    if call is not None and call.origin_id is not None:
        outcome = call.outcome or outcome_of(response.status_code, call.created)
        count_registrations(call.origin_id, str(outcome))


def init_app(app: Flask) -> None:
    """Call after `ingest_record.init_app`: after-request hooks run last registered first, and
    this one must see the door's note before the ingestion log takes it."""
    app.after_request(_observe)
    app.register_blueprint(bp)


def serve_worker(app: Flask) -> WSGIServer | None:
    """Serve this process's metrics on `WORKER_METRICS_PORT` (bound to `WORKER_METRICS_HOST`,
    127.0.0.1 unless set), for a worker on a host with no web process to scrape; returns the
    server (in a daemon thread), or None when no port is set."""
    port = int(app.config.get("WORKER_METRICS_PORT") or 0)
    if not port:
        return None
    host = app.config.get("WORKER_METRICS_HOST") or "127.0.0.1"
    registry = REGISTRY
    if directory := multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    server, _ = start_http_server(port, addr=host, registry=registry)
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return server
