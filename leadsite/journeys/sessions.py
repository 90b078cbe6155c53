"""One-time sign-in links to a lead's journey page (Kohomai's front-office sessions).

A link works once, for a few minutes: using it marks it used in the same statement that checks
it, so two clicks racing each other cannot both sign in. Only the token's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import update

from leadsite.extensions import db
from leadsite.journeys.generate import new_access_token
from leadsite.models import Journey, JourneySession, utcnow

SESSION_LIFETIME = timedelta(minutes=10)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(journey: Journey, redirect_url: str | None = None) -> tuple[JourneySession, str]:
    """A new one-time link to `journey`'s page; returns it and the token (shown once). A
    redirect URL given becomes where the page sends the lead once every task is done."""
    if redirect_url:
        journey.redirect_url = redirect_url
    token = secrets.token_urlsafe(32)
    session = JourneySession(
        workspace_id=journey.workspace_id,
        journey_id=journey.id,
        token_hash=_hash(token),
        expires_at=utcnow() + SESSION_LIFETIME,
    )
    db.session.add(session)
    db.session.flush()
    return session, token


def find_session(token: str) -> JourneySession | None:
    """The link this token opens, used or not."""
    return db.session.scalar(db.select(JourneySession).filter_by(token_hash=_hash(token)))


def use_session(session: JourneySession) -> bool:
    """Spend the link: True the first time, inside its lifetime; False when it was used or has
    expired. A journey page link that has expired is renewed, as signing in promises a page."""
    now = utcnow()
    spent = db.session.execute(
        update(JourneySession)
        .where(
            JourneySession.id == session.id,
            JourneySession.used_at.is_(None),
            JourneySession.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return False
    journey = db.session.get(Journey, session.journey_id)
    if journey.valid_until <= now:
        journey.access_token, journey.valid_until = new_access_token()
    return True


def fresh_page_link(journey: Journey) -> None:
    """Make the journey's page link valid again when it has expired (before emailing it)."""
    if journey.valid_until <= utcnow():
        journey.access_token, journey.valid_until = new_access_token()
