"""Batches and single registrations of the same people at the same moment: one lead per person,
every registration counted (real threads, each with its own connection)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from leadsite.extensions import db
from leadsite.models import Journey, Lead
from tests.api.test_concurrency import worker_running

PEOPLE = 30
SINGLES = 8  # threads registering the people one by one, each all of them


def test_batches_racing_single_registrations_make_one_lead_per_person(app, api):
    emails = [f"p{n}@example.com" for n in range(PEOPLE)]
    barrier = threading.Barrier(2 + SINGLES)

    def batch(order: int) -> list[str]:
        client = app.test_client()
        people = emails if order == 0 else emails[::-1]
        barrier.wait()
        response = client.post(
            f"/api/v1/leads/batch?ref={api.origin.ref}",
            headers=api.auth,
            json=[{"email": email, "tags": [f"b{order}"]} for email in people],
        )
        assert response.status_code == 200, response.json
        return [item["status"] for item in response.json["data"]]

    def singles(worker: int) -> list[int]:
        client = app.test_client()
        barrier.wait()
        mine = emails[worker::SINGLES]
        return [
            client.post(
                f"/api/v1/leads?ref={api.origin.ref}", headers=api.auth, json={"email": email}
            ).status_code
            for email in mine
        ]

    with worker_running(app), ThreadPoolExecutor(2 + SINGLES) as pool:
        batches = [pool.submit(batch, order) for order in (0, 1)]
        single = [pool.submit(singles, worker) for worker in range(SINGLES)]
        batch_statuses = [status for future in batches for status in future.result()]
        single_statuses = [status for future in single for status in future.result()]

    db.session.rollback()
    db.session.expire_all()
    leads = db.session.scalars(db.select(Lead).filter_by(workspace_id=api.workspace.id)).all()
    assert sorted(lead.email for lead in leads) == sorted(emails)
    assert {lead.counter for lead in leads} == {3}
    assert all(sorted(lead.tags) == ["b0", "b1"] for lead in leads)
    assert db.session.scalar(db.select(db.func.count()).select_from(Journey)) == PEOPLE
    created = batch_statuses.count("created") + single_statuses.count(201)
    assert created == PEOPLE
    assert "rejected" not in batch_statuses and set(single_statuses) <= {200, 201}
