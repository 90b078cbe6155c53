"""Waiting: steps become due when the clock passes them, and the worker's query finds them."""

from __future__ import annotations

from datetime import datetime, timedelta

from leadsite.extensions import db
from leadsite.journeys.engine import due_automatic_steps, run_step
from leadsite.models import ActivityKind, JourneyStatus, StepStatus, utcnow
from tests import factories
from tests.journeys.helpers import begin, steps


def due_titles(now: datetime) -> list[str]:
    return [step.title for step in db.session.scalars(due_automatic_steps(now))]


def test_a_wait_step_is_due_when_its_time_has_come() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Cool down"), ActivityKind.WAIT, "Wait", hours=2)
    factories.activity(factories.stage(funnel, "Next"), ActivityKind.STAFF_TASK, "Call")
    start = utcnow()
    journey = begin(factories.lead(ws), funnel, now=start)
    wait = steps(journey)["Wait"]
    assert wait.due_at == start + timedelta(hours=2)

    assert due_titles(start + timedelta(minutes=119)) == []
    run_step(wait, now=start + timedelta(minutes=119))
    assert wait.status == StepStatus.DUE

    assert due_titles(start + timedelta(hours=2)) == ["Wait"]
    run_step(wait, now=start + timedelta(hours=2, seconds=1))
    db.session.commit()

    assert wait.status == StepStatus.DONE
    assert wait.result == {"waited_minutes": 120}
    assert journey.current_stage.name == "Next"
    assert due_titles(start + timedelta(days=1)) == []  # a staff task is not for the worker


def test_wait_units_add_up_and_ignore_the_stage_delay() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Later", delay_minutes=30)
    factories.activity(stage, ActivityKind.WAIT, "Wait", days=1, hours=1, minutes=1)
    factories.activity(stage, ActivityKind.SET_STATUS, "Status", status="nurtured")
    start = utcnow()
    journey = begin(factories.lead(ws), funnel, now=start)

    assert steps(journey)["Wait"].due_at == start + timedelta(days=1, hours=1, minutes=1)
    assert steps(journey)["Status"].due_at == start + timedelta(minutes=30)
    assert due_titles(start + timedelta(minutes=30)) == ["Status"]


def test_the_worker_query_leaves_claimed_and_ended_steps_alone() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    factories.activity(stage, ActivityKind.SET_STATUS, "Status", status="warm")
    factories.activity(stage, ActivityKind.ADD_TAG, "Tag", tag="warm")
    start = utcnow()
    journey = begin(factories.lead(ws), funnel, now=start)
    steps(journey)["Tag"].locked_until = start + timedelta(minutes=5)
    db.session.commit()

    assert due_titles(start) == ["Status"]
    assert sorted(due_titles(start + timedelta(minutes=5))) == ["Status", "Tag"]


def test_a_step_due_on_a_journey_that_ended_is_skipped_not_run() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    factories.activity(stage, ActivityKind.SET_STATUS, "Status", status="warm")
    journey = begin(factories.lead(ws), funnel)
    journey.status = JourneyStatus.CANCELLED
    db.session.commit()

    run_step(steps(journey)["Status"])

    assert steps(journey)["Status"].status == StepStatus.SKIPPED
    assert journey.lead.status == "new"


def test_a_wait_without_a_duration_fails_when_it_runs() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Pause"), ActivityKind.WAIT, "Wait", weeks=1)
    journey = begin(factories.lead(ws), funnel)

    run_step(steps(journey)["Wait"])

    assert steps(journey)["Wait"].status == StepStatus.FAILED
    assert journey.status == JourneyStatus.ACTIVE
