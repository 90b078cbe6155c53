"""The ingestion log: one entry per call a door answered for an origin, kept 30 days."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin
from leadsite.models.types import JSONType, UTCDateTime, utcnow


class IngestOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    REJECTED = "rejected"
    HELD = "held"  # kept as a held lead (it looked like a bot's) for staff to accept or delete
    ERROR = "error"


class IngestionEntry(PublicIdMixin, db.Model):
    """What came in through an origin and what was answered; the body is stored redacted."""

    __tablename__ = "ingestion_entries"
    __table_args__ = (
        # The origin's log, newest first (ids sort by creation time), and the cursor after it.
        Index("ix_ingestion_entries_origin_id", "origin_id", "id"),
        Index("ix_ingestion_entries_at", "at"),
        # No index of lead_id: its one reader, a lead's erasure, also looks for the lead in the
        # bodies (`lead_id = ? OR body ILIKE ?`), which no index serves; every entry paid for it.
    )
    id_prefix = "ing"

    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    origin_id: Mapped[str] = mapped_column(ID, ForeignKey("origins.id", ondelete="CASCADE"))
    # No foreign key: the entry of a registration that failed names no lead, and an entry must
    # never make a lead's erasure (or a workspace's deletion) wait on this table.
    lead_id: Mapped[str | None] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dialect: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))
    status: Mapped[int]
    codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    message: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(10), default="POST")
    query: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
