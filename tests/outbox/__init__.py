"""Outbox tests; `queue_events` queues webhooks for them without a registration."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import WebhookEndpoint
from leadsite.outbox.events import EventWriter
from tests import factories


def queue_events(count: int, url: str, **endpoint_fields: object) -> WebhookEndpoint:
    """`count` lead.created webhooks for one endpoint (unsigned unless given a `secret`)."""
    ws = factories.workspace()
    endpoint_fields.setdefault("secret", None)
    endpoint = WebhookEndpoint(
        workspace_id=ws.id, url=url, events=["lead.created"], **endpoint_fields
    )
    db.session.add(endpoint)
    lead = factories.lead(ws)
    writer = EventWriter(ws.id, lead.id)
    for index in range(count):
        writer.emit("lead.created", {"n": index})
    db.session.commit()
    return endpoint
