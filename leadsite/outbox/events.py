"""Write events to a lead's timeline, with an outbox message for every subscribed webhook."""

from __future__ import annotations

from typing import Any

from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import Channel, Event, OutboxMessage, WebhookEndpoint, utcnow
from leadsite.representations import iso


class EventWriter:
    """Emits events for one workspace (and lead), loading its webhook endpoints once."""

    def __init__(self, workspace_id: str, lead_id: str | None = None) -> None:
        self.workspace_id = workspace_id
        self.lead_id = lead_id
        self._endpoints: list[WebhookEndpoint] | None = None

    def endpoints(self) -> list[WebhookEndpoint]:
        if self._endpoints is None:
            owner = WebhookEndpoint.lead_id.is_(None)
            if self.lead_id is not None:
                owner = owner | (WebhookEndpoint.lead_id == self.lead_id)
            self._endpoints = list(
                db.session.scalars(
                    db.select(WebhookEndpoint).filter(
                        WebhookEndpoint.workspace_id == self.workspace_id,
                        WebhookEndpoint.active.is_(True),
                        owner,
                    )
                )
            )
        return self._endpoints

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Include an endpoint created in this transaction (a lead's WebhookInput)."""
        if endpoint not in self.endpoints():
            self.endpoints().append(endpoint)

    def emit(self, type_: str, data: dict[str, Any], journey_id: str | None = None) -> Event:
        now = utcnow()
        event = Event(
            id=new_id("evt"),
            workspace_id=self.workspace_id,
            lead_id=self.lead_id,
            journey_id=journey_id,
            type=type_,
            payload=data,
            created_at=now,
        )
        db.session.add(event)
        body = {"type": type_, "timestamp": iso(now), "data": data}
        for endpoint in self.endpoints():
            if type_ in endpoint.events:
                db.session.add(
                    OutboxMessage(
                        workspace_id=self.workspace_id,
                        event_id=event.id,
                        endpoint_id=endpoint.id,
                        lead_id=self.lead_id,
                        channel=Channel.WEBHOOK,
                        target=endpoint.url,
                        payload=body,
                        next_attempt_at=now,
                    )
                )
        return event
