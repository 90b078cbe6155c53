"""While the database is unreachable, requests answer 503 with Retry-After (never a 500, never
a hang past the connect timeout), and serve again as soon as it is back."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from leadsite.extensions import db
from leadsite.models import Lead
from leadsite.outages import is_outage
from tests.conftest import csrf_token
from tests.operations.conftest import ApiWorld, outage_app
from tests.servers import free_port

on_postgres = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="PostgreSQL's own behaviour: runs with TEST_DATABASE_URL on PostgreSQL",
)


@pytest.fixture(params=["sqlite-cannot-open", "postgres-connection-refused"])
def unreachable_url(request, tmp_path) -> str:
    if request.param == "sqlite-cannot-open":
        return f"sqlite:///{tmp_path}/missing/dir/x.db"
    return f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"


def test_api_answers_503_with_retry_after_in_its_envelope(unreachable_url):
    client = outage_app(unreachable_url).test_client()

    response = client.post(
        "/api/v1/leads?ref=org_x",
        json={"email": "ada@example.com"},
        headers={"Authorization": "Bearer lsk_whatever"},
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json == {
        "success": False,
        "error": "The service is briefly unavailable. Try again in a few seconds.",
        "code": "SERVICE_UNAVAILABLE",
        "details": {},
        "errors": [],
    }


def test_pages_answer_503_with_retry_after(unreachable_url):
    client = outage_app(unreachable_url).test_client()

    page = client.get("/r/org_x")  # a lead's page, in the lead's language
    sign_in = {"email": "ada@example.com", "password": "x", "csrf_token": csrf_token(client)}
    staff = client.post("/login", data=sign_in)
    fragment = client.post("/login", data=sign_in, headers={"HX-Request": "true"})

    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    assert page.mimetype == "text/html"
    assert staff.status_code == 503
    assert staff.headers["Retry-After"] == "5"
    assert "Briefly unavailable" in staff.get_data(as_text=True)
    assert fragment.status_code == 503
    assert 'id="flash"' in fragment.get_data(as_text=True)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung database host)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


def test_a_database_that_never_answers_gets_a_503_after_the_connect_timeout(silent_server):
    app = outage_app(
        f"postgresql://postgres@127.0.0.1:{silent_server}/nothing", DATABASE_CONNECT_TIMEOUT=2
    )

    started = time.monotonic()
    response = app.test_client().post(
        "/api/v1/leads?ref=org_x", json={}, headers={"Authorization": "Bearer lsk_whatever"}
    )
    took = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert took < 4.5  # psycopg tries each address once: 2 s, with room for a busy machine


@on_postgres
def test_postgres_connections_carry_the_statement_timeout():
    app = outage_app(db.engine.url.render_as_string(False), DATABASE_STATEMENT_TIMEOUT=0.3)

    with app.app_context():
        try:
            with db.engine.connect() as connection:
                assert connection.scalar(text("SHOW statement_timeout")) == "300ms"
                with pytest.raises(OperationalError, match="statement timeout"):
                    connection.execute(text("SELECT pg_sleep(3)"))
        finally:
            db.engine.dispose()


def _terminate_other_backends() -> int:
    """What a PostgreSQL restart does to the app's connections (the server side of them)."""
    url = db.engine.url
    with psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=url.username,
        dbname=url.database,
        autocommit=True,
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@on_postgres
def test_connections_killed_between_requests_are_replaced_unseen(api: ApiWorld):
    assert api.register({"email": "before@example.com"}).status_code == 201
    db.session.remove()

    assert _terminate_other_backends() >= 1
    after = api.register({"email": "after@example.com"})

    assert after.status_code == 201  # the pool's pre-ping found them dead and reconnected


@on_postgres
def test_a_connection_killed_mid_request_answers_503_and_the_retry_registers_once(
    api: ApiWorld,
):
    db.session.remove()
    killed = []

    def kill_once(connection, cursor, statement, *args) -> None:
        if not killed and statement.lstrip().upper().startswith("INSERT"):
            killed.append(_terminate_other_backends())

    event.listen(db.engine, "before_cursor_execute", kill_once)
    try:
        first = api.register({"email": "ada@example.com"}, headers={"Idempotency-Key": "outage-1"})
    finally:
        event.remove(db.engine, "before_cursor_execute", kill_once)
    retry = api.register({"email": "ada@example.com"}, headers={"Idempotency-Key": "outage-1"})

    assert killed and first.status_code == 503, first.get_data(as_text=True)
    assert first.headers["Retry-After"] == "5"
    assert first.json["code"] == "SERVICE_UNAVAILABLE"
    assert retry.status_code == 201
    assert db.session.scalar(db.select(db.func.count()).select_from(Lead)) == 1


def test_no_pooled_connection_free_in_time_answers_503(api: ApiWorld):
    app = outage_app(
        db.engine.url.render_as_string(False),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2},
    )
    with app.app_context():
        held = db.engine.connect()  # the pool's only connection, busy elsewhere
        try:
            response = app.test_client().post(
                f"/api/v1/leads?ref={api.origin.ref}",
                json={"email": "ada@example.com"},
                headers=api.auth,
            )
        finally:
            held.close()
            db.engine.dispose()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["code"] == "SERVICE_UNAVAILABLE"


def test_a_schema_that_does_not_fit_is_a_500_not_an_outage_on_sqlite(tmp_path):
    """SQLite's `OperationalError` also says "no such column": that is a defect to see in the
    log (a 500), not "briefly unavailable" (which a client would retry for ever)."""
    engine = create_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE t (a INTEGER)"))
        with pytest.raises(OperationalError) as missing:
            connection.execute(text("SELECT b FROM t"))
    engine.dispose()
    assert not is_outage(missing.value)
    locked = OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
    assert is_outage(locked)
