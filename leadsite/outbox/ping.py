"""A signed `ping` event sent at once to one endpoint ("Send test event"): the request as sent
and the answer as received, for staff to read. Nothing is stored and no retry follows: the
endpoint's deliveries and failure count are left as they were."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from http.client import HTTPException

from flask import current_app

from leadsite.ids import new_id
from leadsite.models import WebhookEndpoint, Workspace, utcnow
from leadsite.outbox import http
from leadsite.outbox.delivery import TIMEOUT_SECONDS, endpoint_secrets, signed_headers
from leadsite.outbox.failures import explain
from leadsite.representations import iso

PING_EVENT_TYPE = "ping"
SHOWN_BODY_BYTES = 1024


@dataclass(frozen=True)
class PingExchange:
    """What a test event sent and what came back (status None: no answer, see `problem`)."""

    url: str
    request_headers: list[tuple[str, str]]
    request_body: str
    method: str = "POST"
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    duration_ms: int = 0
    problem: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def ping_payload(endpoint: WebhookEndpoint) -> dict[str, object]:
    """Shaped as every event (type, timestamp, data), so a receiver's parser meets it as is."""
    return {
        "type": PING_EVENT_TYPE,
        "timestamp": iso(utcnow()),
        "data": {
            "endpoint_id": endpoint.id,
            "message": "A test event from leadsite. Answer 2xx to acknowledge it.",
        },
    }


def send_ping(endpoint: WebhookEndpoint, workspace: Workspace) -> PingExchange:
    """POST a `ping` to the endpoint now, signed with its current secrets (even when the
    endpoint is disabled: testing it before enabling it is the point)."""
    body = json.dumps(ping_payload(endpoint), separators=(",", ":")).encode()
    headers = signed_headers(new_id("msg"), body, endpoint_secrets(endpoint, workspace))
    sent = PingExchange(
        url=endpoint.url,
        request_headers=[*headers.items(), ("Content-Length", str(len(body)))],
        request_body=body.decode(),
    )
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    try:
        with http.Client(TIMEOUT_SECONDS, allow_private) as client:
            result = client.post(endpoint.url, body, headers)
    except http.RefusedAddress as error:
        return replace(sent, problem=f"Not sent: {error}. Webhooks only go to public addresses.")
    except TimeoutError:
        return replace(sent, problem=f"No answer within {TIMEOUT_SECONDS} seconds.")
    except (OSError, HTTPException) as error:
        return replace(sent, problem=f"No answer. {explain(error)}")
    answer = result.body.encode()[:SHOWN_BODY_BYTES].decode("utf-8", "ignore")
    problem = None
    if not 200 <= result.status < 300:
        problem = f"The endpoint answered {result.status}: only a 2xx status counts as delivered."
    return replace(
        sent,
        status=result.status,
        response_headers=result.headers,
        response_body=answer,
        duration_ms=result.duration_ms,
        problem=problem,
    )
