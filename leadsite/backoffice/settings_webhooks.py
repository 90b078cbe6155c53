"""Settings, webhooks (administrators only): endpoints, their deliveries, secrets, redelivery,
test events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy.orm import aliased
from werkzeug.wrappers import Response

from leadsite.accounts import new_webhook_secret
from leadsite.backoffice import bp
from leadsite.backoffice.settings_forms import EVENT_LABELS, WebhookForm
from leadsite.backoffice.workspace import administrator_required
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.models import (
    DeliveryAttempt,
    MessageStatus,
    OutboxMessage,
    WebhookEndpoint,
    utcnow,
)
from leadsite.outbox.manage import (
    NothingToSend,
    redeliver,
    rotate_endpoint_secret,
    rotate_workspace_secret,
)
from leadsite.outbox.ping import send_ping

INDEX_TEMPLATE = "backoffice/settings/webhooks.html"
EDIT_TEMPLATE = "backoffice/settings/webhook.html"
ATTEMPTS_SHOWN = 50
# The deliveries part of an endpoint's page asks again this often while a message waits:
# often when one is due soon, seldom when the next retry is far off.
POLL_SOON = "2s"
POLL_LATER = "30s"
SOON = timedelta(minutes=1)


def _endpoint_or_404(endpoint_id: str) -> WebhookEndpoint:
    """A workspace-wide endpoint of the current workspace (a lead's own are not managed here)."""
    endpoint = db.session.scalar(
        db.select(WebhookEndpoint).filter_by(
            id=endpoint_id, workspace_id=g.workspace.id, lead_id=None
        )
    )
    if endpoint is None:
        abort(404)
    return endpoint


def _last_attempts(endpoint_ids: list[str]) -> dict[str, DeliveryAttempt]:
    """The latest attempt of each endpoint (for the list), in one query: for each endpoint, the
    last entry of `ix_delivery_attempts_endpoint_attempted`. A max() grouped by endpoint read
    every attempt of every endpoint (the whole table, 24-103 ms at 100,000 attempts)."""
    if not endpoint_ids:
        return {}
    newest = aliased(DeliveryAttempt)
    latest = (
        db.select(newest.id)
        .where(newest.endpoint_id == WebhookEndpoint.id)
        .order_by(newest.attempted_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    attempts = db.session.scalars(
        db.select(DeliveryAttempt)
        .join(WebhookEndpoint, DeliveryAttempt.id == latest)
        .where(WebhookEndpoint.id.in_(endpoint_ids))
    )
    return {attempt.endpoint_id: attempt for attempt in attempts if attempt.endpoint_id}


def _index(form: WebhookForm, block: str = "webhooks", status: int = 200, **extra: Any) -> Response:
    endpoints = list(
        db.session.scalars(
            db.select(WebhookEndpoint)
            .filter_by(workspace_id=g.workspace.id, lead_id=None)
            .order_by(WebhookEndpoint.created_at)
        )
    )
    return render_page_or_block(
        INDEX_TEMPLATE,
        block,
        status=status,
        form=form,
        endpoints=endpoints,
        last_attempts=_last_attempts([e.id for e in endpoints]),
        event_labels=EVENT_LABELS,
        **extra,
    )


def _deliveries(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The endpoint's messages still to send (pending or retrying), its latest attempts with
    their messages, and how often the page should ask again (None: nothing is waiting)."""
    waiting = list(
        db.session.scalars(
            db.select(OutboxMessage)
            .filter_by(
                workspace_id=g.workspace.id, endpoint_id=endpoint.id, status=MessageStatus.PENDING
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(ATTEMPTS_SHOWN)
        )
    )
    attempts = list(
        db.session.scalars(
            db.select(DeliveryAttempt)
            .filter_by(workspace_id=g.workspace.id, endpoint_id=endpoint.id)
            .order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
            .limit(ATTEMPTS_SHOWN)
        )
    )
    message_ids = {attempt.message_id for attempt in attempts}
    messages = {
        message.id: message
        for message in db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
        )
    }
    poll = None
    if waiting:
        poll = POLL_SOON if waiting[0].next_attempt_at <= utcnow() + SOON else POLL_LATER
    return {"waiting": waiting, "attempts": attempts, "messages": messages, "poll": poll}


def _edit(
    endpoint: WebhookEndpoint,
    form: WebhookForm,
    status: int = 200,
    block: str | None = None,
    **extra: Any,
) -> Response:
    if block is None:
        block = "webhook_form" if request.method == "POST" and status == 422 else "webhook"
    return render_page_or_block(
        EDIT_TEMPLATE,
        block,
        status=status,
        endpoint=endpoint,
        form=form,
        **_deliveries(endpoint),
        **extra,
    )


@bp.get("/settings/webhooks")
@administrator_required
def webhooks_index() -> Response:
    """The workspace's webhook endpoints, the form to add one and the default secret."""
    return _index(WebhookForm(formdata=None))


@bp.post("/settings/webhooks")
@administrator_required
def webhook_create() -> Response:
    """Add an endpoint; its `whsec_` signing secret is shown this once."""
    form = WebhookForm()
    if not form.validate_on_submit():
        return _index(form, "webhook_form", status=422)
    endpoint = WebhookEndpoint(
        workspace_id=g.workspace.id,
        url=form.url.data,
        description=form.description.data or None,
        events=list(form.events.data),
        active=form.active.data,
        secret=new_webhook_secret(),
    )
    db.session.add(endpoint)
    db.session.commit()
    flash(f"Webhook endpoint {endpoint.url} added.", "success")
    # Rendered, not redirected: the secret must not travel through the session cookie.
    return _index(WebhookForm(formdata=None), new_endpoint=endpoint, new_secret=endpoint.secret)


@bp.route("/settings/webhooks/<endpoint_id>", methods=["GET", "POST"])
@administrator_required
def webhook_edit(endpoint_id: str) -> Response:
    """An endpoint: edit its URL, events and description; its delivery attempts, newest first."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = WebhookForm(obj=endpoint)
    if form.validate_on_submit():
        was_active = endpoint.active
        endpoint.url = form.url.data
        endpoint.description = form.description.data or None
        endpoint.events = list(form.events.data)
        endpoint.active = form.active.data
        if endpoint.active and not was_active:
            endpoint.disabled_reason, endpoint.consecutive_failures = None, 0
        db.session.commit()
        flash("Webhook endpoint saved.", "success")
        if not is_htmx():
            return redirect(url_for("backoffice.webhook_edit", endpoint_id=endpoint.id))
        return _edit(endpoint, WebhookForm(formdata=None, obj=endpoint))
    return _edit(endpoint, form, status=422 if request.method == "POST" else 200)


@bp.get("/settings/webhooks/<endpoint_id>/deliveries")
@administrator_required
def webhook_deliveries(endpoint_id: str) -> Response:
    """The deliveries part of an endpoint's page, which htmx asks for again while a message
    waits; browsers get the whole page."""
    endpoint = _endpoint_or_404(endpoint_id)
    if not is_htmx():
        return redirect(url_for("backoffice.webhook_edit", endpoint_id=endpoint.id))
    return _edit(endpoint, WebhookForm(formdata=None, obj=endpoint), block="deliveries")


@bp.post("/settings/webhooks/<endpoint_id>/test")
@administrator_required
def webhook_test(endpoint_id: str) -> Response:
    """Send a signed `ping` to the endpoint now and show the request and its answer."""
    endpoint = _endpoint_or_404(endpoint_id)
    ping = send_ping(endpoint, g.workspace)
    return _edit(endpoint, WebhookForm(formdata=None, obj=endpoint), block="ping_result", ping=ping)


@bp.post("/settings/webhooks/<endpoint_id>/active")
@administrator_required
def webhook_toggle(endpoint_id: str) -> Response:
    """Disable an endpoint (nothing is sent to it) or enable it again."""
    endpoint = _endpoint_or_404(endpoint_id)
    endpoint.active = request.form.get("active") == "1"
    if endpoint.active:
        endpoint.disabled_reason, endpoint.consecutive_failures = None, 0
    else:
        endpoint.disabled_reason = "disabled by an administrator"
    db.session.commit()
    flash(f"Endpoint {'enabled' if endpoint.active else 'disabled'}.", "success")
    if not is_htmx():
        return redirect(url_for("backoffice.webhook_edit", endpoint_id=endpoint.id))
    return _edit(endpoint, WebhookForm(formdata=None, obj=endpoint))


@bp.post("/settings/webhooks/<endpoint_id>/rotate-secret")
@administrator_required
def webhook_rotate(endpoint_id: str) -> Response:
    """A new signing secret, shown once; the old one keeps signing alongside it for 24 hours."""
    endpoint = _endpoint_or_404(endpoint_id)
    secret = rotate_endpoint_secret(endpoint)
    db.session.commit()
    flash("New secret made. Deliveries carry both signatures for 24 hours.", "success")
    return _edit(endpoint, WebhookForm(formdata=None, obj=endpoint), new_secret=secret)


@bp.post("/settings/webhooks/<endpoint_id>/messages/<message_id>/redeliver")
@administrator_required
def webhook_redeliver(endpoint_id: str, message_id: str) -> Response:
    """Send a message to this endpoint again, now, with the same webhook-id."""
    endpoint = _endpoint_or_404(endpoint_id)
    message = db.session.scalar(
        db.select(OutboxMessage).filter_by(
            id=message_id, workspace_id=g.workspace.id, endpoint_id=endpoint.id
        )
    )
    if message is None:
        abort(404)
    try:
        redeliver(message)
    except NothingToSend:
        return error_page(409, "Its lead was erased: it has nothing to send.", title="Not sent")
    db.session.commit()
    flash(f"Message {message.id} queued again: it is sent in a moment.", "success")
    if not is_htmx():
        return redirect(url_for("backoffice.webhook_edit", endpoint_id=endpoint.id))
    return _edit(endpoint, WebhookForm(formdata=None, obj=endpoint))


@bp.post("/settings/webhook-secret/rotate")
@administrator_required
def workspace_secret_rotate() -> Response:
    """Rotate the workspace's default secret (it signs leads' own WebhookInput endpoints)."""
    secret = rotate_workspace_secret(g.workspace)
    db.session.commit()
    flash("New default secret made. Deliveries carry both signatures for 24 hours.", "success")
    return _index(WebhookForm(formdata=None), rotated_secret=secret)
