"""Workspaces and the people and keys that act in them: User, Membership, ApiKey."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leadsite.extensions import db
from leadsite.models.base import ID, PublicIdMixin, TimestampMixin
from leadsite.models.types import JSONType, UTCDateTime, utcnow


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    MANAGER = "manager"


class Workspace(PublicIdMixin, TimestampMixin, db.Model):
    """A company using leadsite; every other row belongs to exactly one."""

    __tablename__ = "workspaces"
    id_prefix = "ws"

    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_country: Mapped[str] = mapped_column(String(2), default="US")
    sender_email: Mapped[str | None] = mapped_column(String(254))
    # Signs webhooks of endpoints without a secret of their own (a lead's WebhookInput).
    webhook_secret: Mapped[str | None] = mapped_column(String(80))
    previous_webhook_secret: Mapped[str | None] = mapped_column(String(80))
    previous_webhook_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The API origin that serves calls naming none (`POST /api/v1/leads` without `ref`, the
    # chatbot and vcita dialects). use_alter: origins refer to workspaces too.
    default_origin_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("origins.id", ondelete="SET NULL", use_alter=True)
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="workspace", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Workspace {self.slug}>"


class User(UserMixin, PublicIdMixin, TimestampMixin, db.Model):
    """A staff member who signs in to the back-office."""

    __tablename__ = "users"
    id_prefix = "usr"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated users
        return self.active

    # The secret and the id of the `UserSession` this request is served under, set by
    # `leadsite.auth.sessions` when it signs in or loads a session; not columns.
    session_token = None
    session_id = None

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and remember-me cookies: the secret of a
        `UserSession` row, so that revoking the row ends both (`load_user`)."""
        if self.session_token is None:
            raise RuntimeError("Sign in through leadsite.auth.sessions.sign_in.")
        return self.session_token

    @property
    def password_fingerprint(self) -> str:
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def membership_in(self, workspace_id: str) -> Membership | None:
        return next((m for m in self.memberships if m.workspace_id == workspace_id), None)

    @property
    def active_memberships(self) -> list[Membership]:
        """The workspaces this user may act in now: each administrator decides for their own."""
        return [m for m in self.memberships if m.active]

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Membership(PublicIdMixin, TimestampMixin, db.Model):
    """A user's role in one workspace; a user may belong to several."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "workspace_id"),)
    id_prefix = "mem"

    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20), default=Role.MANAGER)
    # Access to this workspace only: a deactivated membership leaves the user's others alone.
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    user: Mapped[User] = relationship(back_populates="memberships")
    workspace: Mapped[Workspace] = relationship(back_populates="memberships")

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR


class Scope(StrEnum):
    """What an API key may do. Each operation of the API needs one (`leadsite.api.openapi`)."""

    LEADS_WRITE = "leads:write"
    LEADS_READ = "leads:read"
    ADMIN = "admin"


ALL_SCOPES = " ".join(scope.value for scope in Scope)


class ApiKey(PublicIdMixin, db.Model):
    """A bearer key for the API. Only its SHA-256 is stored; a secret key is shown once.

    A secret key (`lsk_`) is for servers and holds `scopes` (space-separated, as in OAuth). A
    publishable key (`lpk_`) is meant to be seen in web pages: it only registers leads, through
    `origin_ids`, from their allowed domains. Being public, its `token` is kept to be shown in
    the snippets of its origins.
    """

    __tablename__ = "api_keys"
    id_prefix = "key"

    workspace_id: Mapped[str] = mapped_column(
        ID, ForeignKey("workspaces.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str] = mapped_column(String(200), default=ALL_SCOPES)
    publishable: Mapped[bool] = mapped_column(default=False)
    origin_ids: Mapped[list[str] | None] = mapped_column(JSONType)
    token: Mapped[str | None] = mapped_column(String(80))

    workspace: Mapped[Workspace] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
