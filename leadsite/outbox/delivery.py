"""Deliver a claimed batch of outbox messages: webhooks handed to the worker's lanes
(`outbox.lanes`: concurrently, endpoint by endpoint, over kept-alive connections), emails and SMS
in turn. Only `load_batch` reads the database; `outcomes.record_batch` writes."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.client import HTTPException
from typing import TYPE_CHECKING

from flask import current_app

from leadsite.extensions import db
from leadsite.models import Channel, OutboxMessage, WebhookEndpoint, Workspace, utcnow
from leadsite.outbox import failures, http, mail
from leadsite.outbox.signing import signature_header
from leadsite.outbox.staff_email import NOT_SENT, addressed_to_deactivated

if TYPE_CHECKING:
    from leadsite.outbox.lanes import Lanes

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
# Webhooks are sent by this many threads of a worker at most (`outbox.lanes`), each over its own
# connections: a receiver answering in 200 ms gets 20 a second from one worker instead of 5
# (half the threads at most for one endpoint), others' messages going out meanwhile.
DELIVERY_THREADS = 8
EXCERPT_CHARS = 2048


@dataclass(frozen=True)
class Outcome:
    success: bool
    status_code: int | None = None
    error: str | None = None
    request_excerpt: str | None = None
    response_excerpt: str | None = None
    duration_ms: int = 0
    gone: bool = False  # the receiver answered 410, or the address is refused: stop sending
    unanswered: bool = False  # no answer came (a timeout, a refused connection, not HTTP)


ENDPOINT_DISABLED = Outcome(False, error="endpoint disabled", gone=True)


@dataclass
class Batch:
    """What delivering a batch needs besides its messages, loaded once for all of them."""

    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    # Staff emails whose recipient the workspace deactivated since they were queued.
    to_deactivated: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook ready to sign and send from any thread: plain data, no database object."""

    message_id: str
    endpoint_id: str | None
    url: str
    body: bytes
    secrets: list[str]


def load_batch(messages: list[OutboxMessage]) -> Batch:
    """The messages' endpoints and workspaces, and the staff emails not to send: a SELECT
    each for the whole batch."""
    batch = Batch()
    endpoint_ids = {m.endpoint_id for m in messages if m.endpoint_id}
    if endpoint_ids:
        query = db.select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
        batch.endpoints = {endpoint.id: endpoint for endpoint in db.session.scalars(query)}
    workspace_ids = {m.workspace_id for m in messages if _needs_workspace(m, batch)}
    if workspace_ids:
        query = db.select(Workspace).where(Workspace.id.in_(workspace_ids))
        batch.workspaces = {workspace.id: workspace for workspace in db.session.scalars(query)}
    batch.to_deactivated = addressed_to_deactivated(
        [m for m in messages if m.channel == Channel.EMAIL]
    )
    db.session.commit()  # no transaction (and no lock) is held while the network is used
    return batch


def _needs_workspace(message: OutboxMessage, batch: Batch) -> bool:
    """Emails need its name and sender; webhooks of endpoints without a secret its secret."""
    if message.channel == Channel.EMAIL:
        return True
    endpoint = batch.endpoints.get(message.endpoint_id or "")
    return message.channel == Channel.WEBHOOK and (endpoint is None or not endpoint.secret)


def _current_secrets(
    secret: str | None, previous: str | None, previous_expires: datetime | None
) -> list[str]:
    if not secret:
        return []
    if previous and (previous_expires is None or previous_expires > utcnow()):
        return [secret, previous]
    return [secret]


def webhook_secrets(message: OutboxMessage, batch: Batch) -> list[str]:
    """The secrets signing `message`: its endpoint's, else its workspace's."""
    return endpoint_secrets(
        batch.endpoints.get(message.endpoint_id or ""), batch.workspaces.get(message.workspace_id)
    )


def endpoint_secrets(endpoint: WebhookEndpoint | None, workspace: Workspace | None) -> list[str]:
    """The endpoint's secrets, else the workspace's; two of them during a rotation."""
    if endpoint is not None and endpoint.secret:
        return _current_secrets(
            endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_expires_at
        )
    if workspace is None:
        return []
    return _current_secrets(
        workspace.webhook_secret,
        workspace.previous_webhook_secret,
        workspace.previous_webhook_secret_expires_at,
    )


def deliver_batch(
    messages: list[OutboxMessage], batch: Batch, keep_going: Callable[[], bool], lanes: Lanes
) -> tuple[dict[str, Outcome], set[str]]:
    """Hand the batch's webhooks to `lanes`, and send its emails and SMS meanwhile; returns
    the outcomes known now (emails, SMS, webhooks of disabled endpoints) by message id, and the
    ids of the webhooks handed over, whose outcomes the lanes keep for `Lanes.take()`.

    `keep_going()` is asked before each attempt: once it says no (the worker is stopping, or
    the lease is running out), the attempts under way finish and no other starts.
    """
    outcomes: dict[str, Outcome] = {}
    webhooks: list[WebhookRequest] = []
    others: list[OutboxMessage] = []
    for message in messages:
        endpoint = batch.endpoints.get(message.endpoint_id or "")
        if message.id in batch.to_deactivated:
            outcomes[message.id] = Outcome(
                False, error=NOT_SENT.format(to=message.target), gone=True
            )
        elif message.channel != Channel.WEBHOOK:
            others.append(message)
        elif endpoint is not None and not endpoint.active:
            outcomes[message.id] = ENDPOINT_DISABLED
        else:
            body = json.dumps(message.payload, separators=(",", ":")).encode()
            secrets = webhook_secrets(message, batch)
            webhooks.append(
                WebhookRequest(message.id, message.endpoint_id, message.target, body, secrets)
            )
    lanes.submit(webhooks, keep_going)
    for message in others:  # emails and SMS need the app context: this thread sends them
        if not keep_going():
            break
        send = deliver_email if message.channel == Channel.EMAIL else deliver_sms
        outcomes[message.id] = guarded(send, message, batch)
    return outcomes, {request.message_id for request in webhooks}


def guarded(send: Callable[..., Outcome], *args: object) -> Outcome:
    """`send(*args)`, a bug in it failing this attempt, not the batch's other outcomes."""
    try:
        return send(*args)
    except Exception as error:
        log.exception("delivery failed unexpectedly")
        return Outcome(False, error=failures.explain(error))


def signed_headers(message_id: str, body: bytes, secrets: list[str]) -> dict[str, str]:
    """A webhook's headers, signed now (just before sending, so the timestamp is fresh)."""
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "leadsite-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
    }
    if secrets:
        headers["webhook-signature"] = signature_header(secrets, message_id, timestamp, body)
    return headers


def deliver_webhook(client: http.Client, request: WebhookRequest) -> Outcome:
    """Sign and POST one webhook."""
    headers = signed_headers(request.message_id, request.body, request.secrets)
    request_excerpt = request.body[:EXCERPT_CHARS].decode("utf-8", "replace")
    try:
        result = client.post(request.url, request.body, headers)
    except http.RefusedAddress as error:
        refused = f"Not sent: {error}, and webhooks go only to public addresses."
        return Outcome(False, error=refused, request_excerpt=request_excerpt, gone=True)
    except (OSError, HTTPException) as error:
        log.info("webhook %s not delivered: %r", request.message_id, error)
        return Outcome(
            False,
            error=failures.explain(error),
            request_excerpt=request_excerpt,
            unanswered=True,
        )
    success = 200 <= result.status < 300
    return Outcome(
        success=success,
        status_code=result.status,
        error=None if success else failures.http_answer(result.status),
        request_excerpt=request_excerpt,
        response_excerpt=result.body[:EXCERPT_CHARS],
        duration_ms=result.duration_ms,
        gone=result.status == 410,
    )


def deliver_email(message: OutboxMessage, batch: Batch) -> Outcome:
    workspace = batch.workspaces[message.workspace_id]
    sender = mail.sender_address(
        workspace.name, workspace.sender_email, current_app.config["MAIL_FROM"]
    )
    email = mail.build_message(sender, message.target, message.payload)
    started = time.monotonic()
    try:
        where = mail.send(current_app.config.get("MAIL_URL"), email)
    except Exception as error:  # smtplib raises many kinds; each is a failed attempt
        log.info("email %s not sent: %r", message.id, error)
        return Outcome(
            False, error=failures.explain(error), request_excerpt=message.payload.get("subject")
        )
    return Outcome(
        True,
        request_excerpt=message.payload.get("subject"),
        response_excerpt=f"sent to {where}",
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def deliver_sms(message: OutboxMessage, batch: Batch) -> Outcome:
    from leadsite.outbox.sms import provider

    try:
        reference = provider().send(message.target, message.payload.get("text", ""))
    except Exception as error:  # a provider's own failure is a failed attempt
        log.warning("text message not sent: %r", error)
        return Outcome(False, error=failures.explain(error))
    return Outcome(True, response_excerpt=reference)
