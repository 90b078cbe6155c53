"""Registrations of the same person at the same moment never make two leads, while the worker
runs the lead's journey steps (as it does beside every server; the test app starts none).

Through the test client; tests/concurrency sends them through real servers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.models import ApiKey, Event, Journey, Lead
from leadsite.outbox import worker

PARALLEL = 20


@contextmanager
def worker_running(app: Flask) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(app, stop, 0.01))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def test_twenty_concurrent_registrations_of_one_email_make_one_lead_counted_20(app, api):
    barrier = threading.Barrier(PARALLEL)
    url = f"/api/v1/leads?ref={api.origin.ref}"

    def register(index: int) -> int:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            url,
            headers=api.auth,
            json={"Email": "Same@Example.com", "Firstname": f"N{index}", "tags": [f"t{index % 3}"]},
        )
        return response.status_code

    with worker_running(app), ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(register, range(PARALLEL)))

    db.session.rollback()  # a fresh snapshot: SQLite readers see the database as it was
    leads = db.session.scalars(db.select(Lead)).all()
    assert sorted(statuses) == [200] * (PARALLEL - 1) + [201]
    assert len(leads) == 1
    assert leads[0].counter == PARALLEL
    assert sorted(leads[0].tags) == ["t0", "t1", "t2"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Journey)) == 1
    # The registrations' events (the worker's steps write theirs, without a `registration`).
    types = [e.type for e in db.session.scalars(db.select(Event)) if "registration" in e.payload]
    assert types.count("lead.created") == 1
    assert types.count("lead.updated") == PARALLEL - 1


def test_a_request_never_waits_for_its_keys_row_held_by_another(app, api):
    """Recording the key's use must not hold (or wait for) the key's row through a request:
    every request of the key in that minute would queue behind the one before (PostgreSQL)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks; its writers queue for the database")
    answers: list[int] = []

    def register() -> None:
        with app.app_context():
            answers.append(api.register({"email": "key@example.com"}).status_code)

    with db.engine.connect() as other:  # another request, touching the key's row
        other.execute(
            db.update(ApiKey)
            .where(ApiKey.workspace_id == api.workspace.id)
            .values(last_used_at=None)
        )
        request = threading.Thread(target=register)
        request.start()
        request.join(20)
        answered_meanwhile = list(answers)
        other.rollback()
    request.join()

    assert answered_meanwhile == [201]
