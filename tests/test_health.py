"""`/healthz` reports the database."""

from __future__ import annotations

from leadsite import create_app


def test_healthz_is_200_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    broken = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/x.db"})

    response = broken.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable"}
