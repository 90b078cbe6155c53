"""Events (a lead's timeline) and the outbox of side effects written in the same transaction."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin, lead_and_workspace
from leadsite.models.types import JSONType, UTCDateTime, utcnow
from leadsite.monitoring import request_ids

if TYPE_CHECKING:
    from leadsite.models.journey import Journey
    from leadsite.models.lead import Lead
    from leadsite.models.webhook import WebhookEndpoint


class Event(PublicIdMixin, db.Model):
    __tablename__ = "events"
    # A lead's timeline, and the cascade of a (held) lead's deletion. No query reads a
    # workspace's events in order: (workspace_id, created_at) went (0011_lean_indexes).
    # Every event names its lead: on PostgreSQL an event without one would have no workspace
    # checked (one key to leads (id, workspace_id), MATCH SIMPLE).
    __table_args__ = (
        Index("ix_events_lead_created", "lead_id", "created_at"),
        *lead_and_workspace("events"),
    )
    id_prefix = "evt"

    workspace_id: Mapped[str] = mapped_column(ID)
    lead_id: Mapped[str | None] = mapped_column(ID)
    journey_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("journeys.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The request that made it (`X-Request-Id`): logs of the request and of its deliveries
    # name it too.
    request_id: Mapped[str | None] = mapped_column(String(128), default=request_ids.current)

    # Also what orders a flush: an event is inserted after the lead and journey it names.
    lead: Mapped[Lead | None] = relationship(
        primaryjoin="Event.lead_id == Lead.id", foreign_keys=[lead_id]
    )
    journey: Mapped[Journey | None] = relationship()


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    SMS = "sms"


class MessageStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class OutboxMessage(PublicIdMixin, db.Model):
    """A side effect to deliver at least once; its id is the webhook-id of every attempt."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)
    id_prefix = "msg"

    # Not indexed: every query that names the workspace also names the message, its endpoint
    # or its lead, and no workspace is ever deleted (0011_lean_indexes).
    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    # Indexed for the SET NULL when a held lead is deleted with its timeline note (an event).
    event_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    endpoint_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("leads.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(128), default=request_ids.current)
    # A webhook activity's delivery: its step waits for it (done on a 2xx, failed when dead).
    step_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("journey_steps.id", ondelete="SET NULL"), index=True
    )

    # Also what orders a flush: a message is inserted after what it refers to.
    event: Mapped[Event | None] = relationship()
    endpoint: Mapped[WebhookEndpoint | None] = relationship()
    lead: Mapped[Lead | None] = relationship()


class IdempotencyRecord(PublicIdMixin, db.Model):
    """The first response to an API request sent with an `Idempotency-Key`, kept for 24 h."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)
    id_prefix = "idem"

    api_key_id: Mapped[str] = mapped_column(ID, ForeignKey("api_keys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # What the request registered, written in the registration's own transaction: a list of
    # [index in the request, lead id, created]. A reservation with no answer but this set lost
    # its answer, not its registration: a repeat answers from it and never registers again.
    registered: Mapped[list[Any] | None] = mapped_column(JSONType)


class DeliveryAttempt(PublicIdMixin, db.Model):
    """One try at delivering an outbox message: what was sent, what came back, how long it took."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_delivery_attempts_endpoint_attempted", "endpoint_id", "attempted_at"),
        Index("ix_delivery_attempts_lead_attempted", "lead_id", "attempted_at"),
    )
    id_prefix = "att"

    message_id: Mapped[str] = mapped_column(
        ID, ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    endpoint_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("webhook_endpoints.id", ondelete="SET NULL")
    )
    lead_id: Mapped[str | None] = mapped_column(ID, ForeignKey("leads.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(2000))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    success: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    request_excerpt: Mapped[str | None] = mapped_column(Text)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
