"""`/api/v1/webhooks`: the workspace's webhook endpoints (a lead's own come from WebhookInput)."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request
from werkzeug.wrappers import Response

from leadsite.accounts import new_webhook_secret
from leadsite.api import bp
from leadsite.api.body import read_body
from leadsite.api.errors import validation_response
from leadsite.api.lookup import scoped_or_404
from leadsite.api.openapi import operation
from leadsite.api.schemas import (
    WebhookCreatedResponse,
    WebhookIn,
    WebhookListResponse,
    WebhookPatch,
    WebhookResponse,
)
from leadsite.extensions import db
from leadsite.models import WebhookEndpoint
from leadsite.outbox.webhook_urls import webhook_url_problem
from leadsite.registration import FieldError
from leadsite.representations import iso

ERRORS = (400, 401, 404, 413, 415, 422, 429)


def webhook_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events or []),
        "description": endpoint.description,
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": iso(endpoint.created_at),
    }


def _url_error(url: str) -> Response | None:
    problem = webhook_url_problem(url, current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    if problem:
        return validation_response([FieldError("url", f"Url {problem}", url)])
    return None


def _endpoint_or_404(endpoint_id: str) -> WebhookEndpoint:
    """A workspace endpoint (a lead's own WebhookInput endpoints are not managed here)."""
    return scoped_or_404(WebhookEndpoint, endpoint_id, "webhook", lead_id=None)


@bp.get("/webhooks")
@operation(
    summary="List webhook endpoints",
    tag="webhooks",
    responses={200: ("Endpoints", WebhookListResponse)},
    errors=(401, 429),
)
def list_webhooks() -> Response:
    """The workspace's webhook endpoints."""
    endpoints = db.session.scalars(
        db.select(WebhookEndpoint)
        .filter_by(workspace_id=g.workspace_id, lead_id=None)
        .order_by(WebhookEndpoint.created_at)
    )
    return jsonify(success=True, data=[webhook_dict(e) for e in endpoints])


@bp.post("/webhooks")
@operation(
    summary="Create a webhook endpoint (its signing secret is shown once)",
    tag="webhooks",
    body=WebhookIn,
    responses={201: ("Created", WebhookCreatedResponse)},
    errors=ERRORS,
)
def create_webhook() -> Response:
    """Create an endpoint; the answer carries its `whsec_` secret, shown only now."""
    data = WebhookIn.model_validate(read_body(request))
    data.url = data.url.strip()
    if (refused := _url_error(data.url)) is not None:
        return refused
    endpoint = WebhookEndpoint(
        workspace_id=g.workspace_id,
        url=data.url,
        events=data.events,
        description=data.description,
        active=data.active,
        secret=new_webhook_secret(),
    )
    db.session.add(endpoint)
    db.session.commit()
    response = jsonify(success=True, data={**webhook_dict(endpoint), "secret": endpoint.secret})
    response.status_code = 201
    return response


@bp.get("/webhooks/<endpoint_id>")
@operation(
    summary="Read a webhook endpoint",
    tag="webhooks",
    responses={200: ("The endpoint", WebhookResponse)},
    errors=(401, 404, 429),
)
def get_webhook(endpoint_id: str) -> Response:
    """One endpoint."""
    return jsonify(success=True, data=webhook_dict(_endpoint_or_404(endpoint_id)))


@bp.patch("/webhooks/<endpoint_id>")
@operation(
    summary="Change a webhook endpoint",
    tag="webhooks",
    body=WebhookPatch,
    responses={200: ("Changed", WebhookResponse)},
    errors=ERRORS,
)
def update_webhook(endpoint_id: str) -> Response:
    """Change URL, events, description or active; re-enabling clears the disabled reason."""
    endpoint = _endpoint_or_404(endpoint_id)
    changes = WebhookPatch.model_validate(read_body(request)).model_dump(exclude_none=True)
    if "url" in changes:
        changes["url"] = changes["url"].strip()
    if "url" in changes and (refused := _url_error(changes["url"])) is not None:
        return refused
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("active"):
        endpoint.disabled_reason = None
        endpoint.consecutive_failures = 0
    db.session.commit()
    return jsonify(success=True, data=webhook_dict(endpoint))


@bp.delete("/webhooks/<endpoint_id>")
@operation(
    summary="Delete a webhook endpoint",
    tag="webhooks",
    responses={200: ("Deleted", WebhookResponse)},
    errors=(401, 404, 429),
)
def delete_webhook(endpoint_id: str) -> Response:
    """Delete the endpoint and its pending deliveries."""
    endpoint = _endpoint_or_404(endpoint_id)
    data = webhook_dict(endpoint)
    db.session.delete(endpoint)
    db.session.commit()
    return jsonify(success=True, data=data)
