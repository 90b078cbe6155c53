"""What leads and external stakeholders leave on a journey in the front-office: uploaded files,
signatures, and the one-time links stakeholders act through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin
from leadsite.models.journey import Journey, JourneyStep
from leadsite.models.types import UTCDateTime, utcnow


class JourneyFile(PublicIdMixin, db.Model):
    """A document uploaded on a journey step, kept in the database (so every web host sees it;
    at most `MAX_UPLOAD_BYTES` each). `content` is loaded only when downloaded."""

    __tablename__ = "journey_files"
    id_prefix = "file"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[str] = mapped_column(ID, ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    journey_id: Mapped[str] = mapped_column(
        ID, ForeignKey("journeys.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("journey_steps.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    # "lead", "stakeholder" or "staff", and the stakeholder's email or the user's id.
    uploaded_by: Mapped[str] = mapped_column(String(20))
    uploader: Mapped[str | None] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    journey: Mapped[Journey] = relationship()
    step: Mapped[JourneyStep | None] = relationship()


class Signature(PublicIdMixin, db.Model):
    """Evidence that a lead signed: the typed name, the SHA-256 of exactly what was shown (a
    text, or an uploaded document's bytes), the consent they ticked, when, from where."""

    __tablename__ = "signatures"
    id_prefix = "sig"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    lead_id: Mapped[str] = mapped_column(ID, ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    journey_id: Mapped[str] = mapped_column(
        ID, ForeignKey("journeys.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("journey_steps.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    text_sha256: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("journey_files.id", ondelete="SET NULL")
    )
    consent: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    journey: Mapped[Journey] = relationship()
    step: Mapped[JourneyStep | None] = relationship()


class StakeholderLink(PublicIdMixin, db.Model):
    """The emailed one-time link by which an external stakeholder does one step (`/s/<token>`):
    it shows only that step and the journey data the activity exposes. Only the SHA-256 of its
    token is kept; it is spent when the stakeholder answers."""

    __tablename__ = "stakeholder_links"
    id_prefix = "stk"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    journey_id: Mapped[str] = mapped_column(
        ID, ForeignKey("journeys.id", ondelete="CASCADE"), index=True
    )
    step_id: Mapped[str] = mapped_column(
        ID, ForeignKey("journey_steps.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The answer: "approved", "rejected" or "done" (data filled, a document uploaded).
    decision: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    # When the stakeholder first opened the page, and the outbox email that sent the link
    # (no foreign key: delivered messages may be pruned).
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[str | None] = mapped_column(String(40))

    journey: Mapped[Journey] = relationship()
    step: Mapped[JourneyStep] = relationship()
