"""Funnels: stages of activities with decisions between them, and the origins leads enter by."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin, TimestampMixin
from leadsite.models.types import JSONType, UTCDateTime


class FunnelStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"


class Identifier(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    UNIQUE_ID = "unique_id"


class OnDuplicate(StrEnum):
    UPDATE = "update"
    REJECT = "reject"


class ActivityKind(StrEnum):
    LEAD_TASK = "lead_task"
    STAFF_TASK = "staff_task"
    EMAIL_LEAD = "email_lead"
    NOTIFY_STAFF = "notify_staff"
    WEBHOOK = "webhook"
    SET_STATUS = "set_status"
    ADD_TAG = "add_tag"
    WAIT = "wait"
    # Holds its stage until `config["condition"]` holds or its timeout passes.
    WAIT_UNTIL = "wait_until"
    # The lead's front-office activities beyond filling data points (LEAD_TASK).
    UPLOAD = "upload"
    SIGN = "sign"
    VIDEO = "video"
    BOOKING = "booking"
    # Done by an external stakeholder through an emailed one-time link (`/s/<token>`).
    STAKEHOLDER_TASK = "stakeholder_task"


class OriginKind(StrEnum):
    API = "api"
    PAGE = "page"
    EMBED = "embed"
    BACKOFFICE = "backoffice"
    IMPORT = "import"


class Funnel(PublicIdMixin, TimestampMixin, db.Model):
    """A workflow leads are taken through; its id is the one `/p/funnels/edit/<id>` names."""

    __tablename__ = "funnels"
    id_prefix = "fnl"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=FunnelStatus.DRAFT)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    identifier: Mapped[str] = mapped_column(String(10), default=Identifier.EMAIL)
    on_duplicate: Mapped[str] = mapped_column(String(10), default=OnDuplicate.UPDATE)
    double_opt_in: Mapped[bool] = mapped_column(default=False)
    # With double opt-in: how long a journey waits for the confirmation before it is cancelled.
    confirm_within_hours: Mapped[int] = mapped_column(default=72)
    notify_emails: Mapped[list[str]] = mapped_column(JSONType, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="funnel", cascade="all, delete-orphan", order_by="Stage.position"
    )
    origins: Mapped[list[Origin]] = relationship(
        back_populates="funnel", cascade="all, delete-orphan", order_by="Origin.created_at"
    )


class Stage(PublicIdMixin, db.Model):
    """A group of activities run together; `condition` decides whether a journey enters it.

    When the stage is finished, `decisions` (an ordered list of
    `{"condition": {...}, "to": STAGE_ID | "end", "label": ...}`) choose where the journey goes:
    the first branch whose condition holds; none holding, `otherwise` (a stage id or "end");
    with neither, the next stage in order whose own condition holds, as linear funnels do.
    """

    __tablename__ = "stages"
    id_prefix = "stg"

    funnel_id: Mapped[str] = mapped_column(
        ID, ForeignKey("funnels.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(120))
    condition: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    delay_minutes: Mapped[int] = mapped_column(default=0)
    decisions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    otherwise: Mapped[str | None] = mapped_column(String(40))

    funnel: Mapped[Funnel] = relationship(back_populates="stages")
    activities: Mapped[list[Activity]] = relationship(
        back_populates="stage", cascade="all, delete-orphan", order_by="Activity.position"
    )


class Activity(PublicIdMixin, db.Model):
    """One thing to do in a stage: a task for the lead or staff, or an automatic action."""

    __tablename__ = "activities"
    # PostgreSQL: what journey_steps' one foreign key to (activity, stage) names
    # (0013_fk_checks).
    __table_args__ = (
        UniqueConstraint("id", "stage_id", name="uq_activities_id_stage_id").ddl_if(
            dialect="postgresql"
        ),
    )
    id_prefix = "act"

    stage_id: Mapped[str] = mapped_column(
        ID, ForeignKey("stages.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    assignee_id: Mapped[str | None] = mapped_column(ID, ForeignKey("users.id", ondelete="SET NULL"))

    stage: Mapped[Stage] = relationship(back_populates="activities")


class Origin(PublicIdMixin, TimestampMixin, db.Model):
    """A door into a funnel: API endpoint, hosted page, embed form, back-office or import."""

    __tablename__ = "origins"
    __table_args__ = (Index("ix_origins_ref", "ref", unique=True),)
    id_prefix = "org"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    funnel_id: Mapped[str] = mapped_column(
        ID, ForeignKey("funnels.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(120))
    ref: Mapped[str] = mapped_column(String(40))
    form_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    redirect_url: Mapped[str | None] = mapped_column(String(2000))
    success_message: Mapped[str | None] = mapped_column(Text)
    allowed_domains: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    # API origins: target (lead field, `data.<point>`, `custom.<key>`) -> JMESPath expression
    # over a sender's own JSON, and the secret of its inbound URL `/hooks/<ref>/<secret>`.
    mapping: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    hook_secret: Mapped[str | None] = mapped_column(String(64))

    funnel: Mapped[Funnel] = relationship(back_populates="origins")
