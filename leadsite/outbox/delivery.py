"""Deliver one claimed outbox message and record the outcome: retry, success, or dead."""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from leadsite.extensions import db
from leadsite.models import (
    Channel,
    DeliveryAttempt,
    MessageStatus,
    OutboxMessage,
    WebhookEndpoint,
    Workspace,
    utcnow,
)
from leadsite.outbox import http, mail
from leadsite.outbox.signing import signature_header

log = logging.getLogger(__name__)

# Standard Webhooks' schedule: the delay before attempt n+1 after attempt n failed.
RETRY_SCHEDULE = [
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
]
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
DEAD_IN_A_ROW_DISABLES = 5
TIMEOUT_SECONDS = 10


@dataclass
class Outcome:
    success: bool
    status_code: int | None = None
    error: str | None = None
    request_excerpt: str | None = None
    response_excerpt: str | None = None
    duration_ms: int = 0
    gone: bool = False  # the receiver answered 410: stop sending to it


def next_attempt_after(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries (±10% jitter), or None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_SCHEDULE[attempts - 1].total_seconds()
    return now + timedelta(seconds=delay * random.uniform(0.9, 1.1))


def _webhook_secrets(message: OutboxMessage, endpoint: WebhookEndpoint | None) -> list[str]:
    if endpoint is not None and endpoint.secret:
        secrets = [endpoint.secret]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and (expires is None or expires > utcnow()):
            secrets.append(endpoint.previous_secret)
        return secrets
    workspace = db.session.get(Workspace, message.workspace_id)
    if workspace is None or not workspace.webhook_secret:
        return []
    secrets = [workspace.webhook_secret]
    expires = workspace.previous_webhook_secret_expires_at
    if workspace.previous_webhook_secret and (expires is None or expires > utcnow()):
        secrets.append(workspace.previous_webhook_secret)
    return secrets


def deliver_webhook(message: OutboxMessage, endpoint: WebhookEndpoint | None) -> Outcome:
    body = json.dumps(message.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "leadsite-webhooks/1",
        "webhook-id": message.id,
        "webhook-timestamp": str(timestamp),
    }
    secrets = _webhook_secrets(message, endpoint)
    if secrets:
        headers["webhook-signature"] = signature_header(secrets, message.id, timestamp, body)
    request_excerpt = body[:2048].decode("utf-8", "replace")
    try:
        result = http.post(
            message.target,
            body,
            headers,
            TIMEOUT_SECONDS,
            current_app.config["WEBHOOK_ALLOW_PRIVATE"],
        )
    except http.RefusedAddress as error:
        return Outcome(False, error=f"refused: {error}", request_excerpt=request_excerpt, gone=True)
    except OSError as error:
        return Outcome(
            False, error=f"{type(error).__name__}: {error}", request_excerpt=request_excerpt
        )
    return Outcome(
        success=200 <= result.status < 300,
        status_code=result.status,
        error=None if 200 <= result.status < 300 else f"answered {result.status}",
        request_excerpt=request_excerpt,
        response_excerpt=result.body[:2048],
        duration_ms=result.duration_ms,
        gone=result.status == 410,
    )


def deliver_email(message: OutboxMessage) -> Outcome:
    workspace = db.session.get(Workspace, message.workspace_id)
    sender = mail.sender_address(
        workspace.name, workspace.sender_email, current_app.config["MAIL_FROM"]
    )
    email = mail.build_message(sender, message.target, message.payload)
    started = time.monotonic()
    try:
        where = mail.send(current_app.config.get("MAIL_URL"), email)
    except Exception as error:  # smtplib raises many kinds; each is a failed attempt
        return Outcome(
            False,
            error=f"{type(error).__name__}: {error}",
            request_excerpt=message.payload.get("subject"),
        )
    return Outcome(
        True,
        request_excerpt=message.payload.get("subject"),
        response_excerpt=f"sent to {where}",
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def deliver_sms(message: OutboxMessage) -> Outcome:
    from leadsite.outbox.sms import provider

    try:
        reference = provider().send(message.target, message.payload.get("text", ""))
    except Exception as error:  # a provider's own failure is a failed attempt
        return Outcome(False, error=f"{type(error).__name__}: {error}")
    return Outcome(True, response_excerpt=reference)


def deliver(message_id: str) -> Outcome | None:
    """Attempt one claimed message and record the outcome in its own transaction."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != MessageStatus.PENDING:
        db.session.rollback()
        return None
    endpoint = db.session.get(WebhookEndpoint, message.endpoint_id) if message.endpoint_id else None
    db.session.commit()  # no transaction (and no lock) is held while the network is used
    if message.channel == Channel.WEBHOOK:
        if endpoint is not None and not endpoint.active:
            outcome = Outcome(False, error="endpoint disabled", gone=True)
        else:
            outcome = deliver_webhook(message, endpoint)
    elif message.channel == Channel.EMAIL:
        outcome = deliver_email(message)
    else:
        outcome = deliver_sms(message)
    record(message, endpoint, outcome)
    return outcome


def record(message: OutboxMessage, endpoint: WebhookEndpoint | None, outcome: Outcome) -> None:
    from leadsite.database import begin_write_transaction

    db.session.commit()  # end the read transaction delivery may have opened
    begin_write_transaction()
    message = db.session.get(OutboxMessage, message.id, populate_existing=True)
    now = utcnow()
    message.attempts += 1
    message.locked_until = None
    db.session.add(
        DeliveryAttempt(
            message_id=message.id,
            workspace_id=message.workspace_id,
            endpoint_id=message.endpoint_id,
            lead_id=message.lead_id,
            channel=message.channel,
            target=message.target,
            attempted_at=now,
            duration_ms=outcome.duration_ms,
            success=outcome.success,
            status_code=outcome.status_code,
            error=outcome.error,
            request_excerpt=outcome.request_excerpt,
            response_excerpt=outcome.response_excerpt,
        )
    )
    endpoint = db.session.get(WebhookEndpoint, endpoint.id) if endpoint is not None else None
    if outcome.success:
        message.status, message.delivered_at, message.last_error = (
            MessageStatus.DELIVERED,
            now,
            None,
        )
        if endpoint is not None:
            endpoint.consecutive_failures = 0
    else:
        message.last_error = outcome.error
        retry_at = None if outcome.gone else next_attempt_after(message.attempts, now)
        if retry_at is None:
            message.status = MessageStatus.DEAD
            _count_dead(endpoint, outcome, now)
        else:
            message.next_attempt_at = retry_at
    db.session.commit()


def _count_dead(endpoint: WebhookEndpoint | None, outcome: Outcome, now: datetime) -> None:
    if endpoint is None or not endpoint.active:
        return
    if outcome.status_code == 410:
        endpoint.active = False
        endpoint.disabled_reason = f"The receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC."
        return
    endpoint.consecutive_failures += 1
    if endpoint.consecutive_failures >= DEAD_IN_A_ROW_DISABLES:
        endpoint.active = False
        endpoint.disabled_reason = (
            f"{endpoint.consecutive_failures} deliveries in a row failed every retry "
            f"(last: {outcome.error}); disabled on {now:%Y-%m-%d %H:%M} UTC."
        )
