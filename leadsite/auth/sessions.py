"""Flask-Login on server-side sessions: sign a browser in, load the session its cookie names,
sign it out. A revoked `UserSession` ends the session cookie and the remember-me cookie alike."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from leadsite.access.sessions import (
    find_session,
    mark_seen,
    needs_seen,
    revoke_session,
    start_session,
)
from leadsite.auth import bp
from leadsite.database import begin_write_transaction
from leadsite.extensions import db, login_manager
from leadsite.models import User

login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The user of a session or remember-me cookie, while its `UserSession` is not revoked
    (sign-out, "Sign out everywhere", a password change or reset revoke it)."""
    row = find_session(token)
    if row is None:
        return None
    user = row.user
    user.session_token, user.session_id = token, row.id
    if needs_seen(row):
        g.session_seen_due = row.id
    return user


def sign_in(user: User, remember: bool = False) -> None:
    """Open a new server-side session for this browser; the caller commits."""
    row, token = start_session(user, request.user_agent.string, request.remote_addr)
    user.session_token, user.session_id = token, row.id
    login_user(user, remember=remember)


def current_session_id() -> str | None:
    """The `UserSession` this request is served under, if signed in."""
    if not current_user.is_authenticated:  # also what loads the session
        return None
    return current_user.session_id


def end_session() -> None:
    """Sign this browser out: its session row is revoked, so no copy of its cookies works."""
    if session_id := current_session_id():
        revoke_session(session_id)
        db.session.commit()
    logout_user()


@bp.after_app_request
def mark_session_seen(response: Response) -> Response:
    """Write when a session was last seen, at most every few minutes (`SEEN_EVERY`)."""
    if session_id := g.pop("session_seen_due", None):
        # The view has answered: what it left uncommitted was never to be kept.
        db.session.rollback()
        begin_write_transaction()
        mark_seen(session_id)
        db.session.commit()
    return response
