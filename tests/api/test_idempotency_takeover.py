"""A reservation whose holder is dead is taken over at once on PostgreSQL (its connection is
gone), and a holder whose reservation was taken over registers nothing: the key registers once,
by whoever holds it."""

from __future__ import annotations

import time

import pytest
from flask import Flask, request
from sqlalchemy import create_engine, delete, text
from sqlalchemy.pool import NullPool

from leadsite.api import idempotency
from leadsite.api.dialects import doors
from leadsite.api.idempotency import HEADER, request_fingerprint
from leadsite.extensions import db
from leadsite.models import ApiKey, IdempotencyRecord
from tests.api.conftest import ApiWorld
from tests.api.test_idempotency_reservations import RAW, _leads, _send


def _reserve_through_the_code(app: Flask, api: ApiWorld, key: str) -> None:
    """Reserve `key` as a first request does, on a connection of the pool."""
    key_row = db.session.scalar(db.select(ApiKey).filter_by(workspace_id=api.workspace.id))
    path = f"/api/v1/leads?ref={api.origin.ref}"
    with app.test_request_context(path, method="POST", data=RAW):
        reservation = idempotency.reserve(key_row.id, key, request_fingerprint(request))
    assert isinstance(reservation, str)
    db.session.rollback()  # the connection back to the pool, where a dead one is replaced


def _restart_connections() -> None:
    """End every connection to the database but this one, as a restart (or the death of the
    processes holding them) would, and wait until they are gone."""
    others = "datname = current_database() AND pid <> pg_backend_pid()"
    outside = create_engine(db.engine.url, poolclass=NullPool)  # not one of the pool's
    try:
        with outside.connect() as connection:
            connection.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE {others}")
            )
            for _ in range(100):
                connection.rollback()  # pg_stat_activity is read once a transaction
                if not connection.scalar(
                    text(f"SELECT count(*) FROM pg_stat_activity WHERE {others}")
                ):
                    return
                time.sleep(0.05)
    finally:
        outside.dispose()
    pytest.fail("connections still there")


@pytest.fixture
def postgresql(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL names the connection that holds a reservation")


@pytest.mark.usefixtures("postgresql")
def test_a_reservation_whose_connection_is_gone_is_taken_over_at_once(app, api, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)  # 409 then, not 5 s later
    _reserve_through_the_code(app, api, "killed-1")
    _restart_connections()

    first = _send(api, "killed-1")
    again = _send(api, "killed-1")

    assert first.status_code == 201, first.json
    assert (again.status_code, again.json) == (201, first.json)
    assert _leads() == 1


@pytest.mark.usefixtures("postgresql")
def test_a_reservation_whose_connection_lives_is_waited_for(app, api, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)
    _reserve_through_the_code(app, api, "alive-1")

    response = _send(api, "alive-1")

    assert response.status_code == 409
    assert response.json["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert _leads() == 0


def test_a_request_whose_reservation_was_taken_over_registers_nothing(api, monkeypatch):
    """Its holder taken for dead (a connection closed under it, a request past
    IDEMPOTENCY_ABANDONED_AFTER), a request loses its key while it registers: it must not
    register, for the repeat that took the key over does."""
    register = doors.register

    def taken_over_meanwhile(*args, **kwargs):
        with db.engine.begin() as other:  # what a takeover by another request does
            other.execute(delete(IdempotencyRecord.__table__))
        return register(*args, **kwargs)

    monkeypatch.setattr(doors, "register", taken_over_meanwhile)
    lost = _send(api, "lost-1")
    monkeypatch.undo()

    assert lost.status_code == 409
    assert lost.json["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert _leads() == 0
    retry = api.register(data=RAW, content_type="application/json", headers={HEADER: "lost-1"})
    assert retry.status_code == 201
    assert _leads() == 1
