"""Fixtures for the operator's side: apps pointed at databases that fail, the API world."""

from __future__ import annotations

from typing import Any

from flask import Flask

from leadsite import create_app
from tests.api.conftest import ApiWorld, api  # noqa: F401  (the API fixture, shared)


def outage_app(url: str, **config: Any) -> Flask:
    """An app of its own on `url` (a database that is not there, or one the test made),
    configured as the tests'."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "leadsite-memory://",
            "BASE_URL": "http://localhost",
            "INGEST_LOG_FLUSH_SECONDS": 0,
            "ANALYTICS_FLUSH_SECONDS": 0,
            **config,
        }
    )
