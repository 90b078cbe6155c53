"""Server-side staff sessions: one `UserSession` row per signed-in browser, found by the SHA-256
of the secret its cookies hold, and revoked to sign that browser out. They flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.orm import joinedload

from leadsite.extensions import db
from leadsite.models import User, UserSession, utcnow

# How stale `last_seen_at` may get before a request writes it again: one write per session
# every few minutes, not one per page.
SEEN_EVERY = timedelta(minutes=5)
USER_AGENT_MAX = 300


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, user_agent: str | None, ip: str | None) -> tuple[UserSession, str]:
    """A new session of `user` and the secret its cookies carry (stored only as a hash)."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=token_hash(token),
        user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
        ip=ip,
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def find_session(token: str) -> UserSession | None:
    """The live session whose cookie holds `token`, with its user; None once revoked."""
    return db.session.scalar(
        db.select(UserSession)
        .options(joinedload(UserSession.user))
        .filter_by(token_hash=token_hash(token), revoked_at=None)
    )


def needs_seen(row: UserSession) -> bool:
    return utcnow() - row.last_seen_at >= SEEN_EVERY


def mark_seen(session_id: str) -> None:
    db.session.execute(
        db.update(UserSession).filter_by(id=session_id).values(last_seen_at=utcnow())
    )


def revoke_session(session_id: str) -> None:
    db.session.execute(
        db.update(UserSession).filter_by(id=session_id, revoked_at=None).values(revoked_at=utcnow())
    )


def revoke_sessions(user_id: str, keep: str | None = None) -> int:
    """Sign `user_id` out of every browser but the session `keep`; how many were signed out."""
    statement = db.update(UserSession).filter_by(user_id=user_id, revoked_at=None)
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    return db.session.execute(statement.values(revoked_at=utcnow())).rowcount


def live_sessions(user_id: str) -> list[UserSession]:
    """The user's sessions not signed out, most recently seen first."""
    return list(
        db.session.scalars(
            db.select(UserSession)
            .filter_by(user_id=user_id, revoked_at=None)
            .order_by(UserSession.last_seen_at.desc())
        )
    )
