"""Data points: named, typed values a workspace collects on journeys (JourneyData)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin, TimestampMixin
from leadsite.models.types import JSONType, UTCDateTime


class DataPointType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"
    EMAIL = "email"
    URL = "url"


class DataPoint(PublicIdMixin, TimestampMixin, db.Model):
    """Created before use; JourneyData refers to it by `name`."""

    __tablename__ = "data_points"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id_prefix = "dp"

    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(10), default=DataPointType.TEXT)
    choices: Mapped[list[str]] = mapped_column(JSONType, default=list)
    help_text: Mapped[str | None] = mapped_column(String(300))
    # An archived data point is kept (journeys keep their values) but offered nowhere new; a
    # data point in use by a form, condition or activity cannot be deleted, only archived.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
