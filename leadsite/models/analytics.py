"""Analytics counters: what happened on an origin's doors, per day, without personal data."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin


class FormEvent(StrEnum):
    """The steps of an origin's form funnel, in order, and what else is counted beside them."""

    VIEW = "view"  # the hosted page's GET, the embed's beacon
    START = "start"  # first field touched (a beacon with no personal data)
    SUBMIT = "submit"  # a submission reached the server
    HELD = "held"  # judged a bot's and held for staff
    INVALID = "invalid"  # refused by validation; `field` names the failing field
    REGISTERED_NEW = "registered_new"
    REGISTERED_RETURNING = "registered_returning"
    CONFIRMED = "confirmed"  # double opt-in confirmed
    CONVERTED = "converted"  # the journey completed


class FormCount(PublicIdMixin, db.Model):
    """How many times `event` happened on an origin on a day (UTC), split by the referring host,
    the UTM campaign and (for `invalid`) the field. Empty strings, not NULL, for "none": NULLs
    are distinct in a unique constraint, and the counters are upserted on it."""

    __tablename__ = "form_counts"
    __table_args__ = (
        UniqueConstraint(
            "origin_id",
            "day",
            "event",
            "field",
            "referrer_host",
            "utm_campaign",
            name="uq_form_counts_key",
        ),
        Index("ix_form_counts_funnel_day", "funnel_id", "day"),
    )
    id_prefix = "fc"

    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    funnel_id: Mapped[str] = mapped_column(ID, ForeignKey("funnels.id", ondelete="CASCADE"))
    origin_id: Mapped[str] = mapped_column(ID, ForeignKey("origins.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    event: Mapped[str] = mapped_column(String(24))
    field: Mapped[str] = mapped_column(String(100), default="", server_default="")
    referrer_host: Mapped[str] = mapped_column(String(255), default="", server_default="")
    utm_campaign: Mapped[str] = mapped_column(String(200), default="", server_default="")
    count: Mapped[int] = mapped_column(BigInteger, default=0)
