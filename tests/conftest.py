"""Fixtures: one migrated database per run (SQLite, or PostgreSQL from TEST_DATABASE_URL),
emptied after every test; the app, its client and a sign-in helper."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from leadsite import create_app
from leadsite.config import database_url
from leadsite.extensions import db, limiter
from tests import factories
from tests.servers import serve

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _test_database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return database_url(url) if url else f"sqlite:///{tmp_dir / 'test.db'}"


def _reset_postgres_schema(app: Flask) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = _test_database_url(tmp_path_factory.mktemp("db"))
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "leadsite-memory://",
            "BASE_URL": "http://localhost",
            "WEBHOOK_ALLOW_PRIVATE": True,
            # argon2 at 1 MiB and one pass: at the defaults (64 MiB, 3 passes, 4 lanes) each hash
            # or sign-in took 1.5 s on this 2-core machine at load 14, minutes of a run.
            "PASSWORD_HASH_PARAMETERS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
            # Each entry written as its call is answered: no thread writing across tests.
            "INGEST_LOG_FLUSH_SECONDS": 0,
            "ANALYTICS_FLUSH_SECONDS": 0,
            # `leadsite demo` keeps its credentials here, not in the checkout's instance/.
            "DEMO_CREDENTIALS_FILE": str(tmp_path_factory.mktemp("demo") / "credentials.json"),
        }
    )
    app.test_client_class = FreshSessionClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            _reset_postgres_schema(app)
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_state(app: Flask) -> Iterator[None]:
    """Each test runs in an app context on an empty database with fresh rate limits."""
    app.config["LOGIN_RATE_LIMIT"] = "10 per minute"
    with app.app_context():
        yield
        db.session.remove()
        _empty_tables()
    limiter.reset()


def _empty_tables() -> None:
    """DELETE from every table, children first. On PostgreSQL in one round trip: 36 DELETEs
    took 75-110 ms a test at load 13, the batch 10-20 ms, one TRUNCATE of all tables 900 ms.

    Without the foreign keys' triggers there (`session_replication_role`, the suite's user is
    a superuser): every table is emptied, so none can be left pointing at a deleted row, and
    each deleted journey step no longer runs its ON DELETE SET NULL on `outbox_messages`: after
    the schemathesis test, those updates ran past the statement timeout in a CI dry run
    (outbox_messages then holds the dead rows of every earlier test: autovacuum is off on the
    CI machine; why its index on `step_id` did not help was not established)."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            quote = connection.dialect.identifier_preparer.format_table
            deletes = "; ".join(f"DELETE FROM {quote(t)}" for t in tables)
            connection.exec_driver_sql(f"SET LOCAL session_replication_role = replica; {deletes}")
        else:  # sqlite3 runs one statement a call
            for table in tables:
                connection.execute(table.delete())


class FreshSessionClient(FlaskClient):
    """The test client, whose requests start from the database as the served app's do.

    Served, each request has a session of its own, closed with it. The test client's requests
    share the test's app context, hence its session, which outlives them; and with
    `expire_on_commit` off an object an earlier request (or the test) loaded stays as it was
    read, and a later request's query returns it as it was, not as the row now is. Whether it
    was still there depended on the garbage collector: the lead page showed a stakeholder's
    link "sent" after `/s/<token>` had marked it opened (an UPDATE the session does not
    follow), in 3 runs of 20 on PostgreSQL at load 5-12. Each request starts with every
    object expired (what the test had not flushed is flushed first, as the request's first
    query would), so that what it reads comes from the database; but for their primary keys,
    which stay readable when a request deleted the row (`db.session.get(Model, item.id)`)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        if has_app_context():
            _expire_but_keys(db.session())
        return super().open(*args, **kwargs)


def _expire_but_keys(session: Session) -> None:
    session.flush()
    for item in list(session.identity_map.values()):
        mapper = sa_inspect(item).mapper
        keys = {mapper.get_property_by_column(column).key for column in mapper.primary_key}
        session.expire(item, [attr.key for attr in mapper.attrs if attr.key not in keys])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token a page hands out, as a browser would read it."""
    page = client.get(path)
    match = CSRF_INPUT.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, email: str, password: str = factories.PASSWORD, **extra: str) -> TestResponse:
        token = csrf_token(self._client)
        return self._client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
        )

    def logout(self) -> TestResponse:
        token = csrf_token(self._client, "/p/")
        return self._client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture(scope="session")
def _server_url(app: Flask) -> Iterator[str]:
    """The test app on 127.0.0.1 and a free port, in a thread, for the whole session."""
    with serve(app) as url:
        yield url


@pytest.fixture
def live_server(app: Flask, _server_url: str) -> Iterator[str]:
    """The served app's base URL, for clients that speak HTTP (Chromium, requests, urllib);
    links the app makes point at it during the test."""
    app.config["BASE_URL"] = _server_url
    yield _server_url
    app.config["BASE_URL"] = "http://localhost"
