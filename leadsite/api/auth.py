"""Bearer API keys: every request but the OpenAPI document and CORS preflights needs one.

A secret key (`lsk_`) must hold the scope the operation names (`leadsite.api.openapi`), and is
refused from a web page (an `Origin` header) other than our own or, when registering, one the
API origin lists. A publishable key (`lpk_`) only registers, through the origins it is bound
to, from their allowed domains, and is rate-limited per visitor's IP instead of per key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app, g, request
from sqlalchemy import ColumnElement, bindparam, select, update
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

from leadsite.accounts import PUBLISHABLE_KEY_PREFIX, hash_api_key
from leadsite.api import bp
from leadsite.api.cors import CORS_ENDPOINTS, origin_allowed
from leadsite.api.openapi import OPERATIONS
from leadsite.database import holds_write_lock
from leadsite.errors import api_error
from leadsite.extensions import db, limiter
from leadsite.models import ApiKey, Funnel, Origin, OriginKind, Scope, Workspace, utcnow

PUBLIC_ENDPOINTS = {"api.openapi_document"}
LAST_USED_RESOLUTION = timedelta(minutes=1)
PUBLISHABLE_RATE_LIMIT = "20 per minute"

# Built once, as Core: every API request runs them.
_keys = ApiKey.__table__
KEY_QUERY = select(
    _keys.c.id,
    _keys.c.workspace_id,
    _keys.c.last_used_at,
    _keys.c.scopes,
    _keys.c.publishable,
    _keys.c.origin_ids,
).where(_keys.c.secret_hash == bindparam("secret_hash"), _keys.c.revoked_at.is_(None))
# Registrations naming their origin (`POST /leads?ref=`) read it, with its funnel and workspace,
# in the key's statement: one statement and round trip fewer (`doors.api_origin` takes it).
ORIGIN_WITH_KEY = frozenset({"api.create_lead"})
PREFETCHED_ORIGIN = "leadsite.api_origin"  # in the request's environ: (ref, workspace, row)
HASHED_TOKEN = "leadsite.api_key_hash"  # in the request's environ: (token, its SHA-256)


def api_origin_named(workspace_id: Any, ref: Any) -> ColumnElement[bool]:
    """The condition on an API origin of this workspace with this ref."""
    return (
        (Origin.ref == ref)
        & (Origin.workspace_id == workspace_id)
        & (Origin.kind == OriginKind.API)
    )


KEY_WITH_ORIGIN_QUERY = (
    KEY_QUERY.add_columns(Origin, Funnel, Workspace)
    .outerjoin(Origin, api_origin_named(_keys.c.workspace_id, bindparam("ref")))
    .outerjoin(Funnel, Funnel.id == Origin.funnel_id)
    .outerjoin(Workspace, Workspace.id == Origin.workspace_id)
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


def insufficient_scope(message: str, scope: str) -> Response:
    response = api_error(403, message, "INSUFFICIENT_SCOPE")
    response.headers["WWW-Authenticate"] = (
        f'Bearer realm="leadsite", error="insufficient_scope", scope="{scope}"'
    )
    return response


def origin_not_allowed(message: str) -> Response:
    return api_error(403, message, "ORIGIN_NOT_ALLOWED")


@cache  # endpoints are few, and every request asks
def required_scope(endpoint: str) -> str:
    """The scope an endpoint needs: its operation's, else `admin` (a view not described yet
    is not opened to narrower keys by mistake)."""
    op = OPERATIONS.get(endpoint)
    return op.scope.value if op is not None else Scope.ADMIN.value


def _own_origin(browser_origin: str) -> bool:
    """Whether a browser's `Origin` is this site's (the API docs' "Try it out")."""
    ours = {request.host_url.rstrip("/"), current_app.config["BASE_URL"].rstrip("/")}
    return browser_origin.rstrip("/").lower() in {url.lower() for url in ours}


@cache
def _publishable_endpoint(endpoint: str) -> bool:
    op = OPERATIONS.get(endpoint)
    return op is not None and op.publishable


@bp.before_request
def authenticate() -> Response | None:
    """Find the workspace of the bearer key; refuse the request without a valid one, or with a
    key that may not call this endpoint from where the request comes."""
    endpoint = request.endpoint
    if request.method == "OPTIONS" or endpoint in PUBLIC_ENDPOINTS:
        return None
    token = bearer_token()
    if token is None:
        return unauthorized("Send your API key as `Authorization: Bearer <key>`")
    ref = request.args.get("ref", "").strip() if endpoint in ORIGIN_WITH_KEY else ""
    key = _live_key_and_origin(token, ref) if ref else _live_key(token)
    if key is None:
        return unauthorized("Invalid or revoked API key")
    # An unknown URL (no endpoint) answers 404 whatever the key.
    if endpoint is not None and (refusal := _refuse_key(key, endpoint)):
        return refusal
    _use(key)
    return None


def check_key(token: str) -> bool:
    """Whether `token` is a live secret key that may register leads (`leads:write`); if so,
    record its use and set `g.api_key_id` and `g.workspace_id`. The dialects' doors outside
    `/api/v1` check their callers' keys here; a publishable key is not theirs to take."""
    key = _live_key(token)
    if key is None or key.publishable or Scope.LEADS_WRITE.value not in key.scopes.split():
        return False
    _use(key)
    return True


def hashed(token: str) -> str:
    """The token's SHA-256, computed once a request: the per-key rate limit's key function
    runs before `authenticate`, and both need it."""
    environ = request.environ
    found = environ.get(HASHED_TOKEN)
    if found is None or found[0] != token:
        found = environ[HASHED_TOKEN] = (token, hash_api_key(token))
    return found[1]


def _live_key(token: str) -> Any:
    return db.session.execute(KEY_QUERY, {"secret_hash": hashed(token)}).first()


def _live_key_and_origin(token: str, ref: str) -> Any:
    """The live key, as `_live_key`; the API origin of its workspace named `ref` (with its
    funnel and workspace, or None) is left in the request's environ for `doors.api_origin`."""
    params = {"secret_hash": hashed(token), "ref": ref}
    row = db.session.execute(KEY_WITH_ORIGIN_QUERY, params).first()
    if row is not None:
        origin = tuple(row[-3:]) if row[-3] is not None else None
        request.environ[PREFETCHED_ORIGIN] = (ref, row.workspace_id, origin)
    return row


def prefetched_origin(ref: str, workspace_id: str) -> Any:
    """What `_live_key_and_origin` found for this ref and workspace: the (origin, funnel,
    workspace) row, None when there is no such origin, or False when it did not look."""
    found = request.environ.pop(PREFETCHED_ORIGIN, None)
    if found is None or found[:2] != (ref, workspace_id):
        return False
    return found[2]


def _use(key: Any) -> None:
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        _touch(key.id, now)
    g.api_key_id = key.id
    g.workspace_id = key.workspace_id
    if key.publishable:  # what `check_origin` needs
        g.api_key_origin_ids = key.origin_ids or []


def _refuse_key(key: Any, endpoint: str) -> Response | None:
    """Why this key may not call this endpoint from where the request comes, or None."""
    if key.publishable:
        if not _publishable_endpoint(endpoint):
            return insufficient_scope(
                "A publishable key (lpk_) can only register leads (POST /api/v1/leads): "
                "use a secret key for anything else",
                Scope.LEADS_WRITE.value,
            )
        return None  # its origin and the browser's are checked with the API origin's row
    scope = required_scope(endpoint)
    if scope not in key.scopes.split():
        return insufficient_scope(f"This API key lacks the `{scope}` scope", scope)
    browser_origin = request.environ.get("HTTP_ORIGIN")
    if browser_origin and endpoint not in CORS_ENDPOINTS and not _own_origin(browser_origin):
        return origin_not_allowed(SECRET_KEY_IN_BROWSER)
    return None


SECRET_KEY_IN_BROWSER = (
    "A secret API key must not be used in a web page: its visitors could read it. Use a "
    "publishable key (lpk_), bound to the API origin, from a site the origin lists"
)


def check_origin(origin: Origin) -> Response | None:
    """Whether the key may register through `origin` from where the request comes: a
    publishable key must be bound to it and called from one of its allowed domains; a secret
    key sent by a browser (an `Origin` header) only from one of them, or from our own site."""
    browser_origin = request.environ.get("HTTP_ORIGIN")
    allowed = origin.allowed_domains or []
    bound = g.get("api_key_origin_ids")
    if bound is not None:  # a publishable key
        if origin.id not in bound:
            return origin_not_allowed("This publishable key is not bound to this API origin")
        if not browser_origin or not origin_allowed(browser_origin, allowed):
            return origin_not_allowed(
                "A publishable key only works from a web page on one of the API origin's "
                f"allowed domains; this request comes from {browser_origin or 'no web page'}"
            )
        return None
    if (
        browser_origin
        and not _own_origin(browser_origin)
        and not origin_allowed(browser_origin, allowed)
    ):
        return origin_not_allowed(SECRET_KEY_IN_BROWSER)
    return None


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


def _publishable() -> bool:
    return (bearer_token() or "").startswith(PUBLISHABLE_KEY_PREFIX)


def _key_identity() -> str:
    """A secret key's calls count against it; a publishable key's against it and the visitor's
    IP, since every visitor of the site sends the same key."""
    token = bearer_token() or ""
    if token.startswith(PUBLISHABLE_KEY_PREFIX):
        return f"publishable-key:{hashed(token)[:16]}:{request.remote_addr}"
    return "api-key:" + hashed(token)[:16]


def _per_key_limit() -> str:
    if _publishable():
        # As the hosted and embed forms, which a publishable key's page stands in for.
        return current_app.config.get("PUBLIC_FORM_RATE_LIMIT") or PUBLISHABLE_RATE_LIMIT
    return current_app.config["API_RATE_LIMIT"]


def _per_ip_limit() -> str:
    return current_app.config["API_IP_RATE_LIMIT"]


def _preflight() -> bool:
    return request.method == "OPTIONS"


limiter.limit(_per_key_limit, key_func=_key_identity, exempt_when=_preflight)(bp)
limiter.limit(_per_ip_limit, exempt_when=_preflight)(bp)
