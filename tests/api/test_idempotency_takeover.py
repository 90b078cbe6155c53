"""A reservation whose holder is dead is taken over at once on PostgreSQL (its connection is
gone); a holder whose reservation was taken over registers nothing, and a takeover that races the
holder's registration takes nothing: the key registers once, by whoever holds it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask import Flask, request
from sqlalchemy import create_engine, delete, event, text, update
from sqlalchemy.pool import NullPool

from leadsite.api import idempotency
from leadsite.api.dialects import doors
from leadsite.api.idempotency import HEADER, request_fingerprint
from leadsite.extensions import db
from leadsite.models import ApiKey, IdempotencyRecord, Lead
from tests import factories
from tests.api.conftest import ApiWorld
from tests.api.test_idempotency_reservations import (
    BODY,
    RAW,
    _leads,
    _reserve_as_another_request,
    _send,
)


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
def test_a_reservation_whose_connection_is_gone_is_taken_over_after_the_grace(
    app, api, monkeypatch
):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)  # 409 then, not 5 s later
    monkeypatch.setitem(app.config, "IDEMPOTENCY_HOLDER_GRACE", 0)
    _reserve_through_the_code(app, api, "killed-1")
    _restart_connections()

    first = _send(api, "killed-1")
    again = _send(api, "killed-1")

    assert first.status_code == 201, first.json
    assert (again.status_code, again.json) == (201, first.json)
    assert _leads() == 1


@pytest.mark.usefixtures("postgresql")
def test_a_young_reservation_whose_connection_is_gone_is_waited_for(app, api, monkeypatch):
    """A live request can lose the connection it reserved on (the pool closes an overflow
    connection given back after the reservation's commit): within the grace it keeps its key,
    and answers for it (the 20 parallel posts of tests/concurrency answered 409 and 500 when a
    repeat took the key over from a live request)."""
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.5)
    _reserve_through_the_code(app, api, "young-1")
    _restart_connections()

    response = _send(api, "young-1")

    assert response.status_code == 409
    assert response.json["code"] == "IDEMPOTENCY_IN_PROGRESS"
    assert _leads() == 0


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


@pytest.mark.usefixtures("postgresql")
def test_a_takeover_racing_the_holder_s_registration_answers_from_it(app, api, monkeypatch):
    """The repeat finds the reservation abandoned (no answer, nothing registered, old), and just
    before it deletes it the holder's registration writes on it and commits: the takeover waits
    for that commit, then takes nothing, and the repeat answers from the registration."""
    monkeypatch.setitem(app.config, "IDEMPOTENCY_ABANDONED_AFTER", 0)
    _reserve_as_another_request(app, api, "racing-1", timedelta(seconds=1))
    lead = factories.lead(api.workspace, email=BODY["email"])
    reservation = db.session.scalar(db.select(IdempotencyRecord.id))
    db.session.rollback()
    outside = create_engine(db.engine.url, poolclass=NullPool)
    holder = outside.connect()
    waiting = "wait_event_type = 'Lock' AND query LIKE 'DELETE FROM idempotency_records%'"

    def commit_once_the_delete_waits() -> None:
        with outside.connect() as watcher:
            for _ in range(200):
                watcher.rollback()  # pg_stat_activity is read once a transaction
                if watcher.scalar(text(f"SELECT count(*) FROM pg_stat_activity WHERE {waiting}")):
                    break
                time.sleep(0.05)
        holder.commit()

    committing = threading.Thread(target=commit_once_the_delete_waits)

    def holder_writes_first(conn, cursor, statement, *args) -> None:
        if statement.startswith("DELETE FROM idempotency_records") and committing.ident is None:
            # The holder's registration: its write on the reservation, committed once the
            # repeat's delete waits for it.
            holder.execute(
                update(IdempotencyRecord.__table__)
                .where(IdempotencyRecord.id == reservation)
                .values(registered=[[0, lead.id, True]])
            )
            committing.start()

    event.listen(db.engine, "before_cursor_execute", holder_writes_first)
    try:
        answer = _send(api, "racing-1")
    finally:
        event.remove(db.engine, "before_cursor_execute", holder_writes_first)
        if committing.is_alive():
            committing.join()
        holder.close()
        outside.dispose()

    assert committing.ident is not None, "the repeat never tried to take the key over"
    assert answer.status_code == 201, answer.json
    assert answer.headers["Idempotent-Replayed"] == "true"
    assert answer.json["data"]["id"] == lead.id
    db.session.rollback()
    assert db.session.get(Lead, lead.id).counter == 1
    assert _leads() == 1
