"""Webhook endpoints: workspace-wide, or a lead's own (from its WebhookInput)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin, TimestampMixin
from leadsite.models.types import JSONType, UTCDateTime

if TYPE_CHECKING:
    from leadsite.models.lead import Lead


class WebhookEndpoint(PublicIdMixin, TimestampMixin, db.Model):
    __tablename__ = "webhook_endpoints"
    id_prefix = "whe"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    # NULL: the workspace's endpoint for every lead; set: only this lead's events.
    lead_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("leads.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    events: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # NULL: signed with the workspace's default secret.
    secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret: Mapped[str | None] = mapped_column(String(80))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    consecutive_failures: Mapped[int] = mapped_column(default=0)

    # Also what orders a flush: a lead's endpoint is inserted after the lead.
    lead: Mapped[Lead | None] = relationship()
