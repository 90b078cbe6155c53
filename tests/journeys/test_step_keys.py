"""What a journey step's activity and stage keys guarantee (0013_fk_checks): a step names
an activity and stage that exist, on PostgreSQL its activity's own stage (one key to activities
(id, stage_id)); deleting an activity clears the steps' activity only, deleting a stage clears
both (the funnel editor's `delete_stage` clears the stage on PostgreSQL, no key does)."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from leadsite.backoffice.funnel_changes import delete_activity, delete_stage
from leadsite.extensions import db
from leadsite.models import ActivityKind, JourneyStep
from tests import factories
from tests.journeys.helpers import begin, steps


def two_stage_journey():
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    welcome = factories.stage(funnel, "Welcome")
    call = factories.activity(welcome, ActivityKind.STAFF_TASK, "Call")
    factories.activity(welcome, ActivityKind.STAFF_TASK, "Email")
    later = factories.stage(funnel, "Later")
    factories.activity(later, ActivityKind.STAFF_TASK, "Visit")
    journey = begin(factories.lead(ws), funnel)
    return journey, welcome, call, later


def refused(**values: str) -> None:
    """Setting these columns on a step is refused by a key (and rolled back)."""
    journey, *_ = two_stage_journey()
    step = steps(journey)["Call"]
    with pytest.raises(IntegrityError):
        db.session.execute(update(JourneyStep).where(JourneyStep.id == step.id).values(**values))
        db.session.flush()
    db.session.rollback()


def test_a_step_cannot_name_an_activity_that_does_not_exist() -> None:
    refused(activity_id="act_missing")


def test_a_step_cannot_name_a_stage_that_does_not_exist() -> None:
    refused(stage_id="stg_missing")


def test_a_step_of_an_activity_cannot_name_another_stage() -> None:
    journey, _, _, later = two_stage_journey()
    step = steps(journey)["Call"]
    # SQLite checks each key alone (no composite key: its SET NULL would clear both columns
    # when an activity is deleted): another stage of the funnel passes there.
    refused_on_postgresql_only(
        update(JourneyStep).where(JourneyStep.id == step.id).values(stage_id=later.id)
    )


def refused_on_postgresql_only(change) -> None:
    """`change` breaks a composite key: PostgreSQL refuses it, SQLite (a key a column) not."""
    if db.engine.dialect.name != "postgresql":
        db.session.execute(change)
        db.session.rollback()
        return
    with pytest.raises(IntegrityError):
        db.session.execute(change)
        db.session.flush()
    db.session.rollback()


def test_deleting_an_activity_clears_its_steps_activity_and_keeps_their_stage() -> None:
    journey, welcome, call, _ = two_stage_journey()
    delete_activity(call)
    db.session.commit()
    db.session.expire_all()

    step = steps(journey)["Call"]
    assert (step.activity_id, step.stage_id) == (None, welcome.id)
    assert steps(journey)["Email"].stage_id == welcome.id


def test_deleting_a_stage_clears_its_steps_stage_and_activity() -> None:
    journey, welcome, _, later = two_stage_journey()
    delete_stage(welcome)
    db.session.commit()
    db.session.expire_all()

    found = steps(journey)
    assert [(found[t].activity_id, found[t].stage_id) for t in ("Call", "Email")] == [
        (None, None),
        (None, None),
    ]
    assert found["Visit"].stage_id == later.id


def test_deleting_a_stage_clears_the_stage_of_steps_whose_activity_went_before() -> None:
    journey, welcome, call, _ = two_stage_journey()
    delete_activity(call)
    db.session.commit()
    delete_stage(welcome)
    db.session.commit()
    db.session.expire_all()

    assert steps(journey)["Call"].stage_id is None
