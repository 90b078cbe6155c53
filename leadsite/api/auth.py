"""Bearer API keys: every request but the OpenAPI document and CORS preflights needs one."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, g, request
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

from leadsite.accounts import hash_api_key
from leadsite.api import bp
from leadsite.database import holds_write_lock
from leadsite.errors import api_error
from leadsite.extensions import db, limiter
from leadsite.models import ApiKey, utcnow

PUBLIC_ENDPOINTS = {"api.openapi_document"}
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Built once, as Core: every API request runs them.
_keys = ApiKey.__table__
KEY_QUERY = select(_keys.c.id, _keys.c.workspace_id, _keys.c.last_used_at).where(
    _keys.c.secret_hash == bindparam("secret_hash"), _keys.c.revoked_at.is_(None)
)
TOUCH = update(_keys).where(_keys.c.id == bindparam("key_id")).values(last_used_at=bindparam("now"))
TOUCH_UNLESS_BUSY = (
    update(_keys)
    .where(
        _keys.c.id.in_(
            select(_keys.c.id)
            .where(_keys.c.id == bindparam("key_id"))
            .with_for_update(skip_locked=True, key_share=True)
            .scalar_subquery()
        )
    )
    .values(last_used_at=bindparam("now"))
)


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def unauthorized(message: str) -> Response:
    response = api_error(401, message, "UNAUTHORIZED")
    response.headers["WWW-Authenticate"] = 'Bearer realm="leadsite"'
    return response


@bp.before_request
def authenticate() -> Response | None:
    """Find the workspace of the bearer key; refuse the request without a valid one."""
    if request.method == "OPTIONS" or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = bearer_token()
    if token is None:
        return unauthorized("Send your API key as `Authorization: Bearer <key>`")
    if not check_key(token):
        return unauthorized("Invalid or revoked API key")
    return None


def check_key(token: str) -> bool:
    """Whether `token` is a valid API key; if so, record its use and set `g.api_key_id` and
    `g.workspace_id`. Every door that takes API keys (the dialects' too) checks them here."""
    key = db.session.execute(KEY_QUERY, {"secret_hash": hash_api_key(token)}).first()
    if key is None:
        return False
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        _touch(key.id, now)
    g.api_key_id = key.id
    g.workspace_id = key.workspace_id
    return True


def _touch(key_id: str, now: datetime) -> None:
    """Record the key's use, at best effort: a request never waits for it.

    On PostgreSQL it commits at once, and leaves the row alone when another request is
    touching it: the row lock of an update kept to the end of a registration would make every
    request of the key in that minute wait for the one before. On SQLite a request holding the
    write lock commits it with its own work; any other commits it now, unless a concurrent
    writer holds the lock, and then the update waits for the next minute."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(TOUCH_UNLESS_BUSY, {"key_id": key_id, "now": now})
        db.session.commit()
        return
    if holds_write_lock():
        db.session.execute(TOUCH, {"key_id": key_id, "now": now})
        return
    try:
        db.session.execute(TOUCH, {"key_id": key_id, "now": now})
        db.session.commit()
    except OperationalError:
        db.session.rollback()


def _key_identity() -> str:
    token = bearer_token() or ""
    return "api-key:" + hash_api_key(token)[:16]


def _per_key_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _per_ip_limit() -> str:
    return current_app.config["API_IP_RATE_LIMIT"]


limiter.limit(
    _per_key_limit, key_func=_key_identity, exempt_when=lambda: request.method == "OPTIONS"
)(bp)
limiter.limit(_per_ip_limit, exempt_when=lambda: request.method == "OPTIONS")(bp)
