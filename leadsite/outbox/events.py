"""Write events to a lead's timeline, with an outbox message for every subscribed webhook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import String

from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import Channel, Event, OutboxMessage, WebhookEndpoint, utcnow
from leadsite.models.base import made
from leadsite.representations import iso

# Built once: every registration runs it. The workspace's active endpoints and the lead's own
# (a lead_id bound as NULL matches no lead's).
ENDPOINTS_QUERY = db.select(WebhookEndpoint).where(
    WebhookEndpoint.workspace_id == db.bindparam("workspace_id"),
    WebhookEndpoint.active.is_(True),
    WebhookEndpoint.lead_id.is_(None)
    | (WebhookEndpoint.lead_id == db.bindparam("lead_id", type_=String)),
)


class EventWriter:
    """Emits events for one workspace (and lead), loading its webhook endpoints once.

    Events and outbox messages go to the session, or to `add` when given (the registration
    collects them in `NewRows`).
    """

    def __init__(
        self,
        workspace_id: str,
        lead_id: str | None = None,
        add: Callable[[Any], None] | None = None,
        endpoints: list[WebhookEndpoint] | None = None,
    ) -> None:
        self.workspace_id = workspace_id
        self.lead_id = lead_id
        self._add = add or db.session.add
        # Given when the caller read them already (a batch reads its workspace's once).
        self._endpoints: list[WebhookEndpoint] | None = (
            list(endpoints) if endpoints is not None else None
        )

    def endpoints(self) -> list[WebhookEndpoint]:
        if self._endpoints is None:
            self._endpoints = list(
                db.session.scalars(
                    ENDPOINTS_QUERY, {"workspace_id": self.workspace_id, "lead_id": self.lead_id}
                )
            )
        return self._endpoints

    def add(self, row: Any) -> None:
        """Write another new row with the events: to the session, or the registration's
        `NewRows` (it must then hold every column's value itself)."""
        self._add(row)

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Include an endpoint created in this transaction (a lead's WebhookInput)."""
        if endpoint not in self.endpoints():
            self.endpoints().append(endpoint)

    def emit(self, type_: str, data: dict[str, Any], journey_id: str | None = None) -> Event:
        now = utcnow()
        # `made`: without the constructor's attribute events, a few of which every row of an
        # import paid for each of its events.
        event = made(
            Event,
            id=new_id("evt"),
            workspace_id=self.workspace_id,
            lead_id=self.lead_id,
            journey_id=journey_id,
            type=type_,
            payload=data,
            created_at=now,
        )
        self._add(event)
        body: dict[str, Any] | None = None  # made for the first endpoint that listens
        for endpoint in self.endpoints():
            if type_ in endpoint.events:
                if body is None:
                    body = {"type": type_, "timestamp": iso(now), "data": data}
                self._add(
                    made(
                        OutboxMessage,
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
