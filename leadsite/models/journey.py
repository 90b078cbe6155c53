"""Journeys: one lead's run through one funnel, its steps and the data it collects."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin, TimestampMixin, lead_and_workspace
from leadsite.models.data_point import DataPoint
from leadsite.models.funnel import Activity, Funnel, Origin, Stage
from leadsite.models.lead import Lead
from leadsite.models.types import JSONType, UTCDateTime, utcnow

_OPEN_STAFF_TASK = text("kind = 'staff_task' AND status = 'due'")
OPEN_STAFF_TASKS = {"postgresql_where": _OPEN_STAFF_TASK, "sqlite_where": _OPEN_STAFF_TASK}
_AWAITING = text("status = 'awaiting'")
AWAITING = {"postgresql_where": _AWAITING, "sqlite_where": _AWAITING}


class JourneyStatus(StrEnum):
    # A funnel with double opt-in generates the journey at registration but starts it (enters
    # its first stage) only when the lead confirms; unconfirmed past the funnel's
    # `confirm_within_hours`, it is cancelled.
    AWAITING = "awaiting"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    PENDING = "pending"
    DUE = "due"
    # An automatic step whose effect has not happened yet: a webhook step whose delivery has
    # not been answered 2xx (`OutboxMessage.step_id` names the step).
    WAITING = "waiting"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class Journey(PublicIdMixin, TimestampMixin, db.Model):
    """One per (lead, funnel); registering again updates it."""

    __tablename__ = "journeys"
    __table_args__ = (
        UniqueConstraint("lead_id", "funnel_id"),
        Index("ix_journeys_funnel_created", "funnel_id", "created_at"),
        # Journeys awaiting confirmation (few), oldest first: the housekeeping's search for
        # those past their window read every journey without it (0012_scans).
        Index("ix_journeys_awaiting_created", "created_at", **AWAITING),
        *lead_and_workspace("journeys"),
    )
    id_prefix = "jrn"

    workspace_id: Mapped[str] = mapped_column(ID, index=True)
    lead_id: Mapped[str] = mapped_column(ID)
    funnel_id: Mapped[str] = mapped_column(ID, ForeignKey("funnels.id", ondelete="CASCADE"))
    # Not indexed: no query looks journeys up by origin (the dashboard and the rollup group a
    # workspace's or funnel's journeys by it), and no origin is ever deleted (0011_lean_indexes).
    origin_id: Mapped[str | None] = mapped_column(ID, ForeignKey("origins.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default=JourneyStatus.ACTIVE)
    current_stage_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("stages.id", ondelete="SET NULL")
    )
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    # The lead's own page is /j/<access_token>, valid until valid_until.
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Attribution for analytics: where the registrations that made or renewed this journey came
    # from. First touch is set once; last touch follows every registration.
    referrer_host: Mapped[str | None] = mapped_column(String(255))
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    last_referrer_host: Mapped[str | None] = mapped_column(String(255))
    last_utm_source: Mapped[str | None] = mapped_column(String(200))
    last_utm_medium: Mapped[str | None] = mapped_column(String(200))
    last_utm_campaign: Mapped[str | None] = mapped_column(String(200))
    # The referral share code (`kid`) the first registration came with, if any.
    share_code: Mapped[str | None] = mapped_column(String(16))

    lead: Mapped[Lead] = relationship(
        back_populates="journeys",
        primaryjoin="Journey.lead_id == Lead.id",
        foreign_keys=[lead_id],
    )
    funnel: Mapped[Funnel] = relationship()
    origin: Mapped[Origin | None] = relationship()
    current_stage: Mapped[Stage | None] = relationship()
    steps: Mapped[list[JourneyStep]] = relationship(
        back_populates="journey", cascade="all, delete-orphan", order_by="JourneyStep.position"
    )
    data: Mapped[list[JourneyData]] = relationship(
        back_populates="journey", cascade="all, delete-orphan"
    )


class JourneyStep(PublicIdMixin, TimestampMixin, db.Model):
    """An activity of the funnel as it applies to one journey."""

    __tablename__ = "journey_steps"
    __table_args__ = (
        Index("ix_journey_steps_status_due", "status", "due_at"),
        # A journey's steps, and its due ones: SQLite without statistics would otherwise take
        # the index above, every due step of every journey.
        Index("ix_journey_steps_journey_status", "journey_id", "status"),
        # My tasks (leadsite.journeys.tasks): open staff tasks, by due date; few of all steps.
        Index("ix_journey_steps_open_staff_tasks", "due_at", "id", **OPEN_STAFF_TASKS),
        # The step's activity, and its stage the activity's (activities never change stage).
        # PostgreSQL: one foreign key to activities (id, stage_id) instead of one to each, so a
        # new step pays one check, not two (issue 17: ten a new lead; 0013_fk_checks).
        # Deleting an activity clears the step's activity_id only; deleting a stage clears the
        # steps' stage_id in `funnel_changes.delete_stage` (the foreign key to stages did).
        # A step whose activity was deleted keeps its stage unchecked (MATCH SIMPLE).
        ForeignKeyConstraint(
            ["activity_id", "stage_id"],
            ["activities.id", "activities.stage_id"],
            name="fk_journey_steps_activity_stage",
            ondelete="SET NULL (activity_id)",
        ).ddl_if(dialect="postgresql"),
        # SQLite sets every column of a composite key NULL (no column list): it keeps one each.
        ForeignKeyConstraint(["activity_id"], ["activities.id"], ondelete="SET NULL").ddl_if(
            dialect="sqlite"
        ),
        ForeignKeyConstraint(["stage_id"], ["stages.id"], ondelete="SET NULL").ddl_if(
            dialect="sqlite"
        ),
    )
    id_prefix = "step"

    journey_id: Mapped[str] = mapped_column(ID, ForeignKey("journeys.id", ondelete="CASCADE"))
    activity_id: Mapped[str | None] = mapped_column(ID)
    stage_id: Mapped[str | None] = mapped_column(ID)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=StepStatus.PENDING)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    journey: Mapped[Journey] = relationship(back_populates="steps")
    activity: Mapped[Activity | None] = relationship(
        primaryjoin="JourneyStep.activity_id == Activity.id", foreign_keys=[activity_id]
    )


class JourneyData(PublicIdMixin, TimestampMixin, db.Model):
    """A data point's value on one journey, typed by the data point."""

    __tablename__ = "journey_data"
    __table_args__ = (UniqueConstraint("journey_id", "data_point_id"),)
    id_prefix = "jd"

    journey_id: Mapped[str] = mapped_column(ID, ForeignKey("journeys.id", ondelete="CASCADE"))
    data_point_id: Mapped[str] = mapped_column(
        ID, ForeignKey("data_points.id", ondelete="RESTRICT"), index=True
    )
    value: Mapped[Any] = mapped_column(JSONType)

    journey: Mapped[Journey] = relationship(back_populates="data")
    data_point: Mapped[DataPoint] = relationship()


class JourneySession(PublicIdMixin, db.Model):
    """A one-time link that signs a lead in to their journey page (Kohomai's front-office
    session, `POST /api/v1/sessions`). Only the SHA-256 of its token is kept."""

    __tablename__ = "journey_sessions"
    id_prefix = "jss"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    journey_id: Mapped[str] = mapped_column(
        ID, ForeignKey("journeys.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    journey: Mapped[Journey] = relationship()


class LeadSignIn(PublicIdMixin, db.Model):
    """A one-time link emailed from `/j/login`: it signs the lead in to the front-office, which
    lists their journeys. Only the SHA-256 of its token is kept."""

    __tablename__ = "lead_sign_ins"
    id_prefix = "lsi"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[str] = mapped_column(ID, ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lead: Mapped[Lead] = relationship()
