"""Two steps of one stage finished at the same time still move the journey on, once (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import text

from leadsite.extensions import db
from leadsite.journeys.engine import complete_step
from leadsite.models import ActivityKind, JourneyStep
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
