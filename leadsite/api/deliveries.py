"""Delivery logs and redelivery: `/api/v1/webhooks/<id>/deliveries`, `/api/v1/leads/<id>/
deliveries`, `POST /api/v1/messages/<id>/redeliver`, `POST /api/v1/webhooks/<id>/rotate-secret`."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.lookup import scoped_or_404
from leadsite.api.openapi import operation
from leadsite.api.schemas import DeliveryListResponse, MessageResponse, SecretResponse
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import DeliveryAttempt, Lead, OutboxMessage, Scope, WebhookEndpoint
from leadsite.outbox.manage import NothingToSend, redeliver, rotate_endpoint_secret
from leadsite.representations import iso

PAGE = 100


def attempt_dict(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "message_id": attempt.message_id,
        "endpoint_id": attempt.endpoint_id,
        "lead_id": attempt.lead_id,
        "channel": attempt.channel,
        "target": attempt.target,
        "attempted_at": iso(attempt.attempted_at),
        "duration_ms": attempt.duration_ms,
        "success": attempt.success,
        "status_code": attempt.status_code,
        "error": attempt.error,
        "request_excerpt": attempt.request_excerpt,
        "response_excerpt": attempt.response_excerpt,
    }


def message_dict(message: OutboxMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel": message.channel,
        "target": message.target,
        "status": message.status,
        "attempts": message.attempts,
        "next_attempt_at": iso(message.next_attempt_at),
        "last_error": message.last_error,
        "delivered_at": iso(message.delivered_at),
        "created_at": iso(message.created_at),
    }


def _attempts(**filters: str) -> Response:
    attempts = db.session.scalars(
        db.select(DeliveryAttempt)
        .filter_by(workspace_id=g.workspace_id, **filters)
        .order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
        .limit(PAGE)
    )
    return jsonify(success=True, data=[attempt_dict(a) for a in attempts])


@bp.get("/webhooks/<endpoint_id>/deliveries")
@operation(
    summary="The latest 100 delivery attempts to a webhook endpoint",
    tag="webhooks",
    responses={200: ("Attempts, newest first", DeliveryListResponse)},
    errors=(401, 404, 429),
)
def list_endpoint_deliveries(endpoint_id: str) -> Response:
    """Every try with its status code, timing, and request and response excerpts."""
    return _attempts(endpoint_id=scoped_or_404(WebhookEndpoint, endpoint_id, "webhook").id)


@bp.get("/leads/<lead_id>/deliveries")
@operation(
    summary="The latest 100 delivery attempts about a lead",
    tag="leads",
    responses={200: ("Attempts, newest first", DeliveryListResponse)},
    errors=(401, 404, 429),
    scope=Scope.LEADS_READ,
)
def list_lead_deliveries(lead_id: str) -> Response:
    """Webhooks and emails about this lead, each try."""
    return _attempts(lead_id=scoped_or_404(Lead, lead_id, "lead").id)


@bp.post("/messages/<message_id>/redeliver")
@operation(
    summary="Send a message again now (same webhook-id)",
    tag="webhooks",
    responses={200: ("Queued again", MessageResponse)},
    errors=(401, 404, 409, 429),
)
def redeliver_message(message_id: str) -> Response:
    """Queue a delivered, failing or dead message again; the worker sends it at once."""
    message = scoped_or_404(OutboxMessage, message_id, "message")
    try:
        redeliver(message)
    except NothingToSend:
        return api_error(409, "This message's lead was erased: it has nothing to send", "ERASED")
    db.session.commit()
    return jsonify(success=True, data=message_dict(message))


@bp.post("/webhooks/<endpoint_id>/rotate-secret")
@operation(
    summary="Rotate a webhook endpoint's secret (both are signed with for 24 h)",
    tag="webhooks",
    responses={200: ("The new secret, shown once", SecretResponse)},
    errors=(401, 404, 429),
)
def rotate_webhook_secret(endpoint_id: str) -> Response:
    """A new signing secret; the old one keeps signing alongside it for 24 hours."""
    endpoint = scoped_or_404(WebhookEndpoint, endpoint_id, "webhook", lead_id=None)
    secret = rotate_endpoint_secret(endpoint)
    db.session.commit()
    return jsonify(
        success=True,
        data={
            "id": endpoint.id,
            "secret": secret,
            "previous_secret_valid_until": iso(endpoint.previous_secret_expires_at),
        },
    )
