"""How staff get in: their server-side sessions, and invitations to join a workspace."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin
from leadsite.models.types import UTCDateTime, utcnow
from leadsite.models.workspace import User, Workspace


class UserSession(PublicIdMixin, db.Model):
    """One signed-in browser. Its cookie (session and remember-me) holds a secret whose SHA-256
    is `token_hash`; revoking the row signs that browser out, whatever cookie it kept."""

    __tablename__ = "user_sessions"
    id_prefix = "ses"

    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(45))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Invitation(PublicIdMixin, db.Model):
    """An emailed, expiring, single-use link to join a workspace: it sets the password of a new
    account or adds the membership to an existing one. Only the link's SHA-256 is stored."""

    __tablename__ = "invitations"
    id_prefix = "inv"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    workspace: Mapped[Workspace] = relationship()

    @property
    def pending(self) -> bool:
        """Neither used nor withdrawn nor past its date: the link still works."""
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()
