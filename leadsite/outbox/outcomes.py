"""Record a delivered batch in one transaction: attempts logged, messages delivered, retried or
dead, endpoints that keep failing disabled, and the messages not attempted released."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.models import DeliveryAttempt, MessageStatus, OutboxMessage, WebhookEndpoint, utcnow
from leadsite.monitoring import metrics
from leadsite.outbox.delivery import Outcome

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


def next_attempt_after(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries (±10% jitter), or None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    delay = RETRY_SCHEDULE[attempts - 1].total_seconds()
    return now + timedelta(seconds=delay * random.uniform(0.9, 1.1))


def record_batch(
    message_ids: Iterable[str],
    outcomes: dict[str, Outcome],
    deferred: dict[str, str] | None = None,
) -> list[OutboxMessage]:
    """Write every attempted message's outcome, and release the others, in one transaction;
    returns the messages recorded (those deleted meanwhile are not).

    The messages are read again, locked, in this transaction (a claim's lease keeps other
    workers away from them); `outcomes` has no entry for a message not attempted, which is due
    again at once, or, if `deferred` names the message it waited behind (its endpoint did not
    answer that one), when that one is.
    """
    begin_write_transaction()
    if db.engine.dialect.name == "postgresql":
        # COMMIT returns without waiting for the WAL to reach the disk (the WAL writer flushes
        # it within a fraction of a second). A PostgreSQL crash before then forgets these
        # outcomes: the messages are claimed again after their lease and delivered again with
        # the same webhook-id, which at-least-once delivery allows (receivers deduplicate).
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
    messages = _still_queued(message_ids)
    now = utcnow()
    due = {message.id: message.next_attempt_at for message in messages}  # before any retry's
    dead: set[str] = set()
    attempts: list[dict[str, Any]] = []
    for message in messages:
        message.locked_until = None  # not attempted: due again at once
        outcome = outcomes.get(message.id)
        if outcome is None:
            continue
        message.attempts += 1
        attempts.append(_attempt(message, outcome, now))
        if outcome.success:
            message.status, message.delivered_at, message.last_error = (
                MessageStatus.DELIVERED,
                now,
                None,
            )
            continue
        message.last_error = outcome.error
        retry_at = None if outcome.gone else next_attempt_after(message.attempts, now)
        if retry_at is None:
            message.status = MessageStatus.DEAD
            dead.add(message.id)
        else:
            message.next_attempt_at = retry_at
    if deferred:
        _defer(messages, deferred, now)
    if attempts:
        db.session.execute(db.insert(DeliveryAttempt), attempts)  # one executemany
    _update_endpoints(messages, outcomes, dead, now)
    db.session.commit()
    _report(messages, outcomes, dead, due, now)
    return messages


def _defer(messages: list[OutboxMessage], deferred: dict[str, str], now: datetime) -> None:
    """Messages not attempted because their endpoint did not answer another: due when that one
    is retried (at once if it is not), so a dead endpoint costs one timeout a retry wave."""
    by_id = {message.id: message for message in messages}
    firsts = set(deferred.values())
    behind = {
        message.id: (message.status, message.next_attempt_at)
        for message in messages
        if message.id in firsts
    }
    if elsewhere := firsts - set(behind):  # recorded in an earlier transaction
        query = db.select(
            OutboxMessage.id, OutboxMessage.status, OutboxMessage.next_attempt_at
        ).where(OutboxMessage.id.in_(elsewhere))
        behind.update(
            {row.id: (row.status, row.next_attempt_at) for row in db.session.execute(query)}
        )
    for message_id, first_id in deferred.items():
        message = by_id.get(message_id)
        status, retry_at = behind.get(first_id, (None, None))
        if message is not None and status == MessageStatus.PENDING and retry_at > now:
            message.next_attempt_at = retry_at


def _still_queued(message_ids: Iterable[str]) -> list[OutboxMessage]:
    """The messages still in the table, read again and locked until their outcomes are
    written. A lease keeps other workers away, not deletions: deleting a webhook endpoint
    deletes its messages, and erasing a lead its pending ones, while they are being sent.
    Nothing is written for those (writing them failed the whole batch, which was then sent
    again after its lease)."""
    ids = sorted(set(message_ids))
    messages = list(
        db.session.scalars(
            db.select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as the UPDATE below takes
            .execution_options(populate_existing=True)
        )
    )
    for missing in set(ids) - {message.id for message in messages}:
        log.info("message %s deleted while it was sent: nothing recorded", missing)
    return sorted(messages, key=lambda m: (m.next_attempt_at, m.id))


def _report(
    messages: list[OutboxMessage],
    outcomes: dict[str, Outcome],
    dead: set[str],
    due: dict[str, datetime],
    now: datetime,
) -> None:
    """Log each attempt with the id of the request that made its message, and count it with
    the worker's lag: from the time the message was due to about when its attempt began."""
    for message in messages:
        outcome = outcomes.get(message.id)
        if outcome is None:
            continue
        result = "delivered" if outcome.success else "dead" if message.id in dead else "retry"
        lag = (now - due[message.id]).total_seconds() - outcome.duration_ms / 1000
        metrics.count_delivery(message.channel, result, lag)
        log.info(
            "%s %s %s: %s",
            message.channel,
            message.id,
            result,
            outcome.status_code or outcome.error,
            extra={
                "request_id": message.request_id,
                "message_id": message.id,
                "lead_id": message.lead_id,
                "channel": message.channel,
                "outcome": result,
                "status_code": outcome.status_code,
                "attempt": message.attempts,
                "duration_ms": outcome.duration_ms,
            },
        )


def _attempt(message: OutboxMessage, outcome: Outcome, now: datetime) -> dict[str, Any]:
    """A DeliveryAttempt's row (inserted in bulk: no object per attempt is needed)."""
    return {
        "message_id": message.id,
        "workspace_id": message.workspace_id,
        "endpoint_id": message.endpoint_id,
        "lead_id": message.lead_id,
        "channel": message.channel,
        "target": message.target,
        "attempted_at": now,
        "duration_ms": outcome.duration_ms,
        "success": outcome.success,
        "status_code": outcome.status_code,
        "error": outcome.error,
        "request_excerpt": outcome.request_excerpt,
        "response_excerpt": outcome.response_excerpt,
    }


def _update_endpoints(
    messages: list[OutboxMessage],
    outcomes: dict[str, Outcome],
    dead: set[str],
    now: datetime,
) -> None:
    """A delivery resets its endpoint's count of dead messages in a row; a dead one adds to it.

    Usually nothing died: one UPDATE resets the counts that are not 0 already (none, mostly).
    Otherwise the batch's endpoints are read again and locked, and the outcomes applied in turn.
    Both lock endpoints in the order of their ids, so two workers cannot deadlock (SQLite has
    no FOR UPDATE: the transaction holds the database's write lock already). FOR NO KEY
    UPDATE: registrations writing outbox messages for these endpoints (a foreign key check)
    need not wait for the batch.
    """
    attempted = [message for message in messages if message.id in outcomes]
    if not dead:
        delivered = {m.endpoint_id for m in attempted if m.endpoint_id and outcomes[m.id].success}
        if delivered:
            failing = (
                db.select(WebhookEndpoint.id)
                .where(WebhookEndpoint.id.in_(delivered), WebhookEndpoint.consecutive_failures != 0)
                .order_by(WebhookEndpoint.id)
                .with_for_update(key_share=True)
            )
            db.session.execute(
                db.update(WebhookEndpoint)
                .where(WebhookEndpoint.id.in_(failing.scalar_subquery()))
                .values(consecutive_failures=0)
            )
        return
    query = (
        db.select(WebhookEndpoint)
        .where(WebhookEndpoint.id.in_({m.endpoint_id for m in attempted if m.endpoint_id}))
        .order_by(WebhookEndpoint.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    endpoints = {endpoint.id: endpoint for endpoint in db.session.scalars(query)}
    for message in attempted:
        endpoint = endpoints.get(message.endpoint_id or "")
        outcome = outcomes[message.id]
        if endpoint is None:
            continue
        if outcome.success:
            endpoint.consecutive_failures = 0
        elif message.id in dead:
            _count_dead(endpoint, outcome, now)


def _count_dead(endpoint: WebhookEndpoint, outcome: Outcome, now: datetime) -> None:
    if not endpoint.active:
        return
    if outcome.status_code == 410:
        endpoint.active = False
        endpoint.disabled_reason = f"The receiver answered 410 Gone on {now:%Y-%m-%d %H:%M} UTC."
        return
    endpoint.consecutive_failures += 1
    if endpoint.consecutive_failures >= DEAD_IN_A_ROW_DISABLES:
        endpoint.active = False
        # The column holds 300 characters; an error can quote a URL of 2000.
        last = (outcome.error or "")[:120]
        endpoint.disabled_reason = (
            f"{endpoint.consecutive_failures} deliveries in a row failed every retry "
            f"(last: {last}); disabled on {now:%Y-%m-%d %H:%M} UTC."
        )
