"""Password resets by email: a signed link that expires, bound to the password it replaces so
that it works once (any new password, argon2 salting it afresh, ends it). They flush, never
commit."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from leadsite.access.emails import queue_account_email
from leadsite.access.sessions import revoke_sessions
from leadsite.extensions import db
from leadsite.models import User
from leadsite.passwords import hash_password

SALT = "password-reset"
VALID_MINUTES = 30


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def reset_token(user: User) -> str:
    return _serializer().dumps({"user": user.id, "password": user.password_fingerprint})


def request_reset(email: str) -> bool:
    """Email a reset link if `email` is an account that may sign in somewhere; whether it was
    is for tests and logs, never for the person asking."""
    user = db.session.scalar(db.select(User).filter_by(email=email.strip().lower()))
    if user is None or not user.active or not user.active_memberships:
        return False
    # Account emails go through a workspace's outbox (its sender, its mailbox, where the text
    # stays hidden): the first the user may use.
    workspace = user.active_memberships[0].workspace
    url = f"{current_app.config['BASE_URL']}/reset-password/{reset_token(user)}"
    queue_account_email(
        workspace,
        user.email,
        "Reset your leadsite password",
        "password_reset",
        url=url,
        email=user.email,
        minutes=VALID_MINUTES,
    )
    return True


def user_of_token(token: str) -> User | None:
    """The account a reset link is for, while it is fresh and its password unchanged."""
    try:
        data = _serializer().loads(token, max_age=VALID_MINUTES * 60)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, str(data.get("user", "")))
    if user is None or data.get("password") != user.password_fingerprint:
        return None
    return user


def reset_password(user: User, password: str) -> None:
    """Set the new password and sign the account out everywhere: whoever asked for the reset
    may not be the only one who knew the old password."""
    user.password_hash = hash_password(password)
    revoke_sessions(user.id)
