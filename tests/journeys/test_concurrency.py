"""Two steps of one stage finished at the same time still move the journey on, once (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import text

from leadsite.extensions import db
from leadsite.journeys.engine import complete_step, run_step
from leadsite.models import ActivityKind, Journey, JourneyStep, Lead, StepStatus
from tests import factories
from tests.journeys.helpers import begin, event_types, steps

TIMEOUT = 10


def _waiting_for_a_lock() -> bool:
    with db.engine.connect() as connection:
        return bool(connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def test_the_second_of_two_concurrent_completions_sees_the_first(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL")
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(welcome, ActivityKind.STAFF_TASK, "Call")
    factories.activity(welcome, ActivityKind.LEAD_TASK, "Profile")
    factories.activity(factories.stage(funnel, "Next"), ActivityKind.STAFF_TASK, "Quote")
    journey = begin(factories.lead(ws), funnel)
    first_id, second_id = steps(journey)["Call"].id, steps(journey)["Profile"].id
    first_holds_lock, second_is_waiting = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def finish(step_id: str, before_commit: threading.Event | None) -> None:
        try:
            with app.app_context():
                complete_step(db.session.get(JourneyStep, step_id))
                if before_commit is not None:
                    first_holds_lock.set()
                    assert before_commit.wait(TIMEOUT), "the second completion never waited"
                db.session.commit()
        except BaseException as error:  # reported by the test below
            errors.append(error)
            first_holds_lock.set()

    first = threading.Thread(target=finish, args=(first_id, second_is_waiting))
    second = threading.Thread(target=finish, args=(second_id, None))
    first.start()
    assert first_holds_lock.wait(TIMEOUT)
    second.start()
    deadline = time.monotonic() + TIMEOUT
    while not _waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.01)
    second_is_waiting.set()
    first.join(TIMEOUT)
    second.join(TIMEOUT)

    assert errors == []
    db.session.expire_all()
    assert journey.current_stage.name == "Next"
    assert event_types(journey).count("journey.stage_entered") == 2


def test_a_step_waits_for_a_registration_holding_the_lead_and_both_go_through(app: Flask) -> None:
    """The worker locks the lead before the journey, as registrations do: a registration that
    holds the lead and then writes the journey never meets the step the other way round
    (which PostgreSQL ended as a deadlock, a 500 for the registration)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL")
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(welcome, ActivityKind.ADD_TAG, "Tag", tag="vip")
    factories.activity(welcome, ActivityKind.STAFF_TASK, "Call")
    lead = factories.lead(ws)
    journey = begin(lead, funnel)
    step_id, journey_id, lead_id = steps(journey)["Tag"].id, journey.id, lead.id
    errors: list[BaseException] = []

    def run_the_step() -> None:
        try:
            with app.app_context():
                run_step(db.session.get(JourneyStep, step_id))
                db.session.commit()
        except BaseException as error:  # reported by the test below
            errors.append(error)

    with db.engine.connect() as registration:
        registration.execute(  # the pipeline's match
            db.select(Lead.id).filter_by(id=lead_id).with_for_update(key_share=True)
        )
        worker = threading.Thread(target=run_the_step)
        worker.start()
        deadline = time.monotonic() + TIMEOUT
        while not _waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        registration.execute(  # then its write to the journey
            db.update(Journey).filter_by(id=journey_id).values(redirect_url="https://shop.example")
        )
        registration.commit()
    worker.join(TIMEOUT)

    assert errors == []
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).tags == ["vip"]
    assert db.session.get(Journey, journey_id).redirect_url == "https://shop.example"
    assert db.session.get(JourneyStep, step_id).status == StepStatus.DONE
