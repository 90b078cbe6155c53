"""The leads list as each workspace arranges it: managed statuses and saved views."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin, TimestampMixin
from leadsite.models.types import JSONType, UTCDateTime


class LeadStatus(PublicIdMixin, db.Model):
    """A status a lead can have in a workspace. `Lead.status` holds the `key`, which never
    changes; `name` is what staff see and may be renamed."""

    __tablename__ = "lead_statuses"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)
    id_prefix = "lst"

    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(7), default="#6b7280")  # #rrggbb
    position: Mapped[int] = mapped_column(default=0)
    # A closed status ends the lead's handling (won, lost, spam): the board shows it last.
    closed: Mapped[bool] = mapped_column(default=False)


class SavedView(PublicIdMixin, TimestampMixin, db.Model):
    """A leads-list view a user saved: filters, columns and sort; shared ones are seen by the
    whole workspace."""

    __tablename__ = "saved_views"
    id_prefix = "view"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(80))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    columns: Mapped[list[str]] = mapped_column(JSONType, default=list)
    sort: Mapped[str | None] = mapped_column(String(40))
    shared: Mapped[bool] = mapped_column(default=False)


class EmbedViolation(PublicIdMixin, db.Model):
    """A page outside an origin's allowed sites that framed its embed (a CSP violation report
    from the browser): the host, how often, and when first and last."""

    __tablename__ = "embed_violations"
    __table_args__ = (UniqueConstraint("origin_id", "host"),)
    id_prefix = "emv"

    origin_id: Mapped[str] = mapped_column(ID, ForeignKey("origins.id", ondelete="CASCADE"))
    host: Mapped[str] = mapped_column(String(255))  # scheme://host[:port] of the framing page
    count: Mapped[int] = mapped_column(default=0)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
