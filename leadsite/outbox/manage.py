"""Service functions staff and the API use on deliveries: redeliver, rotate secrets. They flush."""

from __future__ import annotations

from datetime import timedelta

from leadsite.accounts import new_webhook_secret
from leadsite.extensions import db
from leadsite.models import MessageStatus, OutboxMessage, WebhookEndpoint, Workspace, utcnow

ROTATION_OVERLAP = timedelta(hours=24)
# What an erased lead's sent messages keep (leadsite.erasure): nothing to send again.
ERASED_PAYLOAD = {"erased": True}


class NothingToSend(Exception):
    """The message's content was erased with its lead."""


def redeliver(message: OutboxMessage) -> OutboxMessage:
    """Queue the message again, now, with the same id (receivers see the same webhook-id).
    Raises `NothingToSend` for a message whose lead was erased."""
    if message.payload == ERASED_PAYLOAD:
        raise NothingToSend(message.id)
    message.status = MessageStatus.PENDING
    message.next_attempt_at = utcnow()
    message.locked_until = None
    db.session.flush()
    return message


def rotate_endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """A new secret; deliveries carry both signatures for 24 h so receivers can switch over."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
    endpoint.secret = new_webhook_secret()
    db.session.flush()
    return endpoint.secret


def rotate_workspace_secret(workspace: Workspace) -> str:
    """The same for the workspace's default secret (leads' WebhookInput without a Secret)."""
    workspace.previous_webhook_secret = workspace.webhook_secret
    workspace.previous_webhook_secret_expires_at = utcnow() + ROTATION_OVERLAP
    workspace.webhook_secret = new_webhook_secret()
    db.session.flush()
    return workspace.webhook_secret
