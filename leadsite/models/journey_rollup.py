"""The journey funnel's rollup: counts of what the journeys registered on a day are at, kept
exact in each change's transaction (`analytics.rollup_session`), so that a report reads days, not
journeys."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from leadsite.extensions import db
from leadsite.models.base import ID


class JourneyCount(db.Model):
    """How many journeys of a funnel registered (created) on `day` through an origin ('' for
    none) count under (`metric`, `item`, `bucket`): journeys by status, per stage entered /
    waiting / completed / skipped / where they went next, per activity reached / done / skipped /
    open, open steps by due day, done steps by time-spent bucket, conversions by time bucket,
    registrations and conversions by attribution value. See `analytics.rollup.contribution`."""

    __tablename__ = "journey_counts"

    funnel_id: Mapped[str] = mapped_column(
        ID, ForeignKey("funnels.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    origin_id: Mapped[str] = mapped_column(ID, primary_key=True)
    metric: Mapped[str] = mapped_column(String(24), primary_key=True)
    item: Mapped[str] = mapped_column(String(255), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID, ForeignKey("workspaces.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class JourneyDuration(db.Model):
    """One time spent: an activity's done step from due to done, or ('' activity) a journey's
    registration to conversion, with its histogram bucket, so that a percentile found in a
    bucket of `journey_counts` is read exactly from the few values in that bucket."""

    __tablename__ = "journey_durations"
    __table_args__ = (
        Index("ix_journey_durations_bucket", "funnel_id", "activity_id", "bucket", "day"),
    )

    journey_id: Mapped[str] = mapped_column(
        ID, ForeignKey("journeys.id", ondelete="CASCADE"), primary_key=True
    )
    activity_id: Mapped[str] = mapped_column(ID, primary_key=True)
    funnel_id: Mapped[str] = mapped_column(ID, ForeignKey("funnels.id", ondelete="CASCADE"))
    origin_id: Mapped[str] = mapped_column(ID)
    day: Mapped[date] = mapped_column(Date)
    bucket: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[float] = mapped_column(Float)
