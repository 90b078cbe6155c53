"""Bearer API keys: every request but the OpenAPI document and CORS preflights needs one."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, g, request
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
    key = db.session.scalar(
        db.select(ApiKey).filter_by(secret_hash=hash_api_key(token), revoked_at=None)
    )
    if key is None:
        return unauthorized("Invalid or revoked API key")
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        _touch(key, now)
    g.api_key = key
    g.workspace_id = key.workspace_id
    return None


def _touch(key: ApiKey, now: datetime) -> None:
    """Record the key's use. A request holding the write lock commits it with its own work;
    any other commits it now, at best effort: on SQLite a concurrent writer may hold the lock,
    and then the update waits for the next minute rather than slow the request."""
    key.last_used_at = now
    if not holds_write_lock():
        try:
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
