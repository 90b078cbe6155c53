"""`/healthz` says the process answers; `/readyz` whether it can serve: database, migrations,
Redis."""

from __future__ import annotations

import sqlite3

import pytest
from flask import Flask

from tests.operations.conftest import outage_app
from tests.servers import free_port


def test_healthz_is_200_without_asking_the_database(tmp_path):
    broken = outage_app(f"sqlite:///{tmp_path}/missing/dir/x.db")

    response = broken.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_the_database_is_migrated(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["checks"] == {"database": "ok", "redis": "not configured"}


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/missing/dir/x.db",
        "postgresql://postgres@127.0.0.1:{port}/nothing",
    ],
    ids=["sqlite-cannot-open", "postgres-connection-refused"],
)
def test_readyz_is_503_when_the_database_is_unreachable(tmp_path, url):
    broken = outage_app(url.format(tmp=tmp_path, port=free_port()))

    response = broken.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["database"] == "unreachable"


def _sqlite_at_revision(path, revision: str | None) -> str:
    with sqlite3.connect(path) as connection:
        if revision is not None:
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            connection.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    return f"sqlite:///{path}"


@pytest.mark.parametrize("revision", [None, "0008_fixes"], ids=["never-migrated", "behind"])
def test_readyz_is_503_until_the_database_is_migrated(tmp_path, revision):
    app = outage_app(_sqlite_at_revision(tmp_path / "old.db", revision))

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json["checks"]["database"] == "migrations pending"


def test_readyz_stays_200_when_the_database_is_ahead_of_this_code(tmp_path):
    """An older release's process, while a rolling upgrade has migrated past it."""
    app = outage_app(_sqlite_at_revision(tmp_path / "new.db", "9999_from_a_later_release"))

    response = app.test_client().get("/readyz")

    assert response.status_code == 200
    assert response.json["checks"]["database"] == "ahead"


def test_readyz_reports_redis_when_configured(app: Flask, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    try:
        up = client.get("/readyz")
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
        down = client.get("/readyz")
    finally:
        app.config["REDIS_URL"] = None

    assert (up.status_code, up.json["status"], up.json["checks"]["redis"]) == (200, "ok", "ok")
    # Rate limits go on in each process's memory: the process stays in the balancer.
    assert (down.status_code, down.json["status"], down.json["checks"]["redis"]) == (
        200,
        "degraded",
        "unreachable",
    )
