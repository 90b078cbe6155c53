"""Settings read from the environment (and an optional `.env`), with safe local defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def database_url(url: str | None) -> str:
    """Normalize a database URL: default to the local SQLite file, use psycopg 3 for PostgreSQL."""
    if not url:
        return f"sqlite:///{INSTANCE / 'leadsite.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _secret_key() -> str:
    """Return SECRET_KEY, or a random key kept in instance/ so sessions survive restarts locally."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = INSTANCE / "secret_key"
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict[str, object]:
    """Build the Flask config mapping from environment variables."""
    base_url = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    redis_url = os.environ.get("REDIS_URL")
    return {
        "SECRET_KEY": _secret_key(),
        "BASE_URL": base_url,
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        "REDIS_URL": redis_url,
        "MAIL_URL": os.environ.get("MAIL_URL"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "leadsite@localhost"),
        "SMS_PROVIDER": os.environ.get("SMS_PROVIDER"),
        # Where `leadsite demo` keeps its password and key (default: the instance folder).
        "DEMO_CREDENTIALS_FILE": os.environ.get("DEMO_CREDENTIALS_FILE"),
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        "WEBHOOK_ALLOW_PRIVATE": _flag("WEBHOOK_ALLOW_PRIVATE"),
        "LEADSITE_INLINE_WORKER": _flag("LEADSITE_INLINE_WORKER"),
        "WORKER_LEASE_SECONDS": int(os.environ.get("WORKER_LEASE_SECONDS", "60")),
        # An Idempotency-Key reserved this long ago, with no answer and nothing registered, lost
        # its request (a killed process): a repeat takes it over and registers.
        "IDEMPOTENCY_ABANDONED_AFTER": float(os.environ.get("IDEMPOTENCY_ABANDONED_AFTER", "120")),
        "IDEMPOTENCY_HOLDER_GRACE": float(os.environ.get("IDEMPOTENCY_HOLDER_GRACE", "10")),
        # On PostgreSQL an idle worker waits on LISTEN for new work; off (0) it only polls, as
        # it must behind a pooler in transaction mode (PgBouncer), where LISTEN does not work.
        "WORKER_LISTEN": _flag("WORKER_LISTEN", default=True),
        # The ingestion log (every call an origin answers, kept 30 days): on unless INGEST_LOG=0.
        "INGEST_LOG": _flag("INGEST_LOG", default=True),
        # How often a process writes the ingestion log entries it queued (0: at each answer).
        "INGEST_LOG_FLUSH_SECONDS": float(os.environ.get("INGEST_LOG_FLUSH_SECONDS", "0.5")),
        # Whether the form funnel is counted at all (views, starts, submissions...).
        "ANALYTICS_COUNTING": _flag("ANALYTICS_COUNTING", default=True),
        # How often a process writes the form counts it added up (0: at each count).
        "ANALYTICS_FLUSH_SECONDS": float(os.environ.get("ANALYTICS_FLUSH_SECONDS", "0.5")),
        # Beacons (a form's view and start) per minute from one address to one form.
        "BEACON_RATE_LIMIT": os.environ.get("BEACON_RATE_LIMIT", "60 per minute"),
        "RATELIMIT_STORAGE_URI": redis_url or "leadsite-memory://",  # (extensions)
        # Redis away: each process counts in its own memory (with a warning) until it is back.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": bool(redis_url),
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        # Seconds: connecting to PostgreSQL, any one statement (0: no limit), waiting for a
        # pooled connection. Past them a request answers 503 instead of hanging.
        "DATABASE_CONNECT_TIMEOUT": int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3")),
        "DATABASE_STATEMENT_TIMEOUT": float(os.environ.get("DATABASE_STATEMENT_TIMEOUT", "30")),
        "DATABASE_POOL_TIMEOUT": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        # What a 503 answered while the database is unreachable tells the client to wait.
        "OUTAGE_RETRY_AFTER": int(os.environ.get("OUTAGE_RETRY_AFTER", "5")),
        # `/metrics` answers a request bearing this token; with none set it is off (404).
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        # A worker serves its own metrics on this port (0: not), bound to this address.
        "WORKER_METRICS_PORT": int(os.environ.get("WORKER_METRICS_PORT", "0")),
        "WORKER_METRICS_HOST": os.environ.get("WORKER_METRICS_HOST", "127.0.0.1"),
        # "json": one JSON object per log line, with the request id; anything else: text.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        # Delivered outbox messages and their attempts are deleted after this many days
        # (0: kept for ever). Dead ones are kept for staff to see and send again.
        "OUTBOX_RETENTION_DAYS": float(os.environ.get("OUTBOX_RETENTION_DAYS", "30")),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Per IP and per email asked for: each request may send an email.
        "PASSWORD_RESET_RATE_LIMIT": os.environ.get("PASSWORD_RESET_RATE_LIMIT", "5 per hour"),
        "LEAD_LOGIN_RATE_LIMIT": os.environ.get("LEAD_LOGIN_RATE_LIMIT", "5 per hour"),
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute"),
        "API_IP_RATE_LIMIT": os.environ.get("API_IP_RATE_LIMIT", "1200 per minute"),
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
    }


DEFAULTS: dict[str, object] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},  # more: `engine_options`
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "sliding-window-counter",
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,
}


def engine_options(url: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """SQLAlchemy engine options for `url`: the configured ones, plus, on PostgreSQL, bounds on
    every wait (connecting, a statement, a dead peer, a pooled connection), so that an outage
    is answered with a 503 within seconds, never a hang."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_pre_ping", True)
    if not url.startswith("postgresql"):
        return options
    options.setdefault("pool_timeout", config["DATABASE_POOL_TIMEOUT"])
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", config["DATABASE_CONNECT_TIMEOUT"])
    if statement_ms := int(float(config["DATABASE_STATEMENT_TIMEOUT"]) * 1000):
        connect_args.setdefault("options", f"-c statement_timeout={statement_ms}")
    # A peer gone silent (a cut link, a crashed host) is noticed in about 10 s by TCP itself:
    # keepalives while idle, and unacknowledged data given up on after tcp_user_timeout.
    connect_args.setdefault("keepalives", 1)
    connect_args.setdefault("keepalives_idle", 5)
    connect_args.setdefault("keepalives_interval", 2)
    connect_args.setdefault("keepalives_count", 3)
    connect_args.setdefault("tcp_user_timeout", 10_000)
    options["connect_args"] = connect_args
    return options
