"""`/healthz` (the process answers) and `/readyz` (it can serve: database, Redis, migrations),
for load balancers, orchestrators and monitors."""

from __future__ import annotations

import logging
import time
from functools import cache

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import inspect, text
from werkzeug.wrappers import Response

from leadsite.config import ROOT
from leadsite.extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# A readiness probe must answer before the balancer's own check times out (HAProxy: 2 s here).
REDIS_TIMEOUT_SECONDS = 0.5


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 whenever the process answers: liveness touches no database, so a database outage
    does not get every web process restarted."""
    return jsonify(status="ok"), 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when this process can serve: the database answers, migrated at least as far as
    this code's migrations go.

    Redis (when `REDIS_URL` is set) is reported but does not make the process unready: rate
    limits fall back to per-process memory while it is away, and a balancer that took every
    web process out for it would stop registrations that can go on.
    """
    started = time.monotonic()
    checks = {"database": _database(), "redis": _redis()}
    ready = checks["database"] in ("ok", "ahead")
    if not ready:
        status = "unavailable"
    elif checks["redis"] not in ("ok", "not configured"):
        status = "degraded"
    else:
        status = "ok"
    elapsed_ms = round((time.monotonic() - started) * 1000, 1)
    return jsonify(status=status, checks=checks, elapsed_ms=elapsed_ms), 200 if ready else 503


def _database() -> str:
    """ "ok"; "unreachable"; "migrations pending" when the database is behind the code (not
    migrated yet); "ahead" when it is at a revision this code does not know, as an older
    release's process finds it during a rolling upgrade (migrations are written
    expand-then-contract, so that process may keep serving)."""
    try:
        with db.engine.connect() as connection:
            # Read as Alembic keeps it (its own reader logs a line at each probe).
            current = frozenset(
                connection.scalars(text("SELECT version_num FROM alembic_version"))
                if inspect(connection).has_table("alembic_version")
                else ()
            )
    except Exception as error:  # any driver's error: the answer is the same
        log.warning("readiness: database unreachable: %s", error)
        return "unreachable"
    heads, known = migrations()
    if current == heads:
        return "ok"
    if current and not current <= known:
        return "ahead"
    log.warning("readiness: database at %s, code at %s", sorted(current), sorted(heads))
    return "migrations pending"


def _redis() -> str:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return "not configured"
    import redis

    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        with client:
            client.ping()
    except redis.RedisError as error:
        log.warning("readiness: Redis unreachable: %s", error)
        return "unreachable"
    return "ok"


@cache
def migrations() -> tuple[frozenset[str], frozenset[str]]:
    """The revisions the code's migrations end at, and every revision they know (read once
    per process)."""
    script = ScriptDirectory(str(ROOT / "migrations"))
    known = frozenset(revision.revision for revision in script.walk_revisions())
    return frozenset(script.get_heads()), known
