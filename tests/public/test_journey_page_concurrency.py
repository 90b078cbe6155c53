"""A lead fills in their task while registering again: the task form waits for the
registration's lock on the lead before it writes journey data, so neither fails (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import text

from leadsite.extensions import db
from leadsite.models import ActivityKind, JourneyData, JourneyStep, OriginKind
from leadsite.public.tokens import journey_action_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories

TIMEOUT = 10


def _waiting_for_a_lock() -> bool:
    with db.engine.connect() as connection:
        return bool(connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def test_a_task_form_during_a_registration_of_the_lead_waits_and_both_go_through(
    app: Flask, client
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL")
    ws = factories.workspace()
    company = factories.data_point(ws, "company")
    funnel = factories.funnel(ws)
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(welcome, ActivityKind.LEAD_TASK, "About you", data_points=["company"])
    factories.activity(welcome, ActivityKind.STAFF_TASK, "Call")
    origin = factories.origin(funnel, OriginKind.PAGE)
    journey = register(origin, LeadInput(email="ada@example.com"), RegistrationContext()).journey
    factories.journey_value(journey, company, "Registered Ltd")
    task = db.session.scalar(
        db.select(JourneyStep).filter_by(journey_id=journey.id, title="About you")
    )
    path = f"/j/{journey.access_token}/steps/{task.id}"
    form = {"_token": journey_action_token(journey.id), "data.company": "Typed Ltd"}
    lead_id, journey_id, task_id = journey.lead_id, journey.id, task.id
    answers: list[int] = []

    def fill_in_the_task() -> None:
        answers.append(client.post(path, data=form).status_code)

    with db.engine.connect() as registration:
        registration.execute(  # the pipeline's match locks the lead...
            text("SELECT id FROM leads WHERE id = :id FOR NO KEY UPDATE"), {"id": lead_id}
        )
        lead = threading.Thread(target=fill_in_the_task)
        lead.start()
        deadline = time.monotonic() + TIMEOUT
        while not _waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        # ... then stores the journey data it was sent, and commits.
        registration.execute(
            db.update(JourneyData)
            .filter_by(journey_id=journey_id, data_point_id=company.id)
            .values(value="Sent Ltd")
        )
        registration.commit()
    lead.join(TIMEOUT)

    assert answers == [303]
    db.session.expire_all()
    assert db.session.scalar(db.select(JourneyData.value).filter_by(journey_id=journey_id)) == (
        "Typed Ltd"
    )
    assert db.session.get(JourneyStep, task_id).result["data"] == {"company": "Typed Ltd"}
