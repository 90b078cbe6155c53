"""What journeys' and events' keys to their lead and workspace guarantee (0013_fk_checks): the
lead exists, on PostgreSQL the row's workspace is its lead's (one key to leads (id,
workspace_id)); deleting the lead, or the workspace, deletes them (through the lead on
PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from leadsite.extensions import db
from leadsite.models import ActivityKind, Event, Journey, JourneyStep, Lead, Workspace
from tests import factories
from tests.journeys.helpers import begin
from tests.journeys.test_step_keys import refused_on_postgresql_only


def started_journey(ws: Workspace | None = None) -> Journey:
    ws = ws or factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.STAFF_TASK, "Call")
    return begin(factories.lead(ws), funnel)


def counts(journey: Journey) -> tuple[int, int, int]:
    """The journey's rows left: journeys, steps, events of its lead."""
    return (
        db.session.scalar(select(func.count()).select_from(Journey).filter_by(id=journey.id)),
        db.session.scalar(
            select(func.count()).select_from(JourneyStep).filter_by(journey_id=journey.id)
        ),
        db.session.scalar(
            select(func.count()).select_from(Event).filter_by(lead_id=journey.lead_id)
        ),
    )


@pytest.mark.parametrize("model", [Journey, Event])
def test_a_row_cannot_name_a_lead_that_does_not_exist(model) -> None:
    journey = started_journey()
    with pytest.raises(IntegrityError):
        db.session.execute(
            update(model).where(model.lead_id == journey.lead_id).values(lead_id="lead_missing")
        )
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("model", [Journey, Event])
def test_a_row_cannot_name_another_workspace_than_its_leads(model) -> None:
    journey = started_journey()
    other = factories.workspace("Other")
    # SQLite checks each key alone (changing them would rebuild the tables): any workspace
    # passes there.
    refused_on_postgresql_only(
        update(model).where(model.lead_id == journey.lead_id).values(workspace_id=other.id)
    )


def test_a_row_cannot_name_a_workspace_that_does_not_exist() -> None:
    journey = started_journey()
    with pytest.raises(IntegrityError):
        db.session.execute(
            update(Event).where(Event.lead_id == journey.lead_id).values(workspace_id="ws_missing")
        )
        db.session.flush()
    db.session.rollback()


def test_deleting_a_lead_deletes_its_journeys_steps_and_events() -> None:
    journey = started_journey()
    kept = started_journey(db.session.get(Workspace, journey.workspace_id))
    assert counts(journey)[0] == 1 and all(counts(journey))

    db.session.execute(delete(Lead).where(Lead.id == journey.lead_id))
    db.session.commit()

    assert counts(journey) == (0, 0, 0)
    assert all(counts(kept))


def test_deleting_a_workspace_deletes_its_leads_journeys_and_events() -> None:
    journey = started_journey()
    kept = started_journey()
    assert all(counts(journey))

    db.session.execute(delete(Workspace).where(Workspace.id == journey.workspace_id))
    db.session.commit()

    assert counts(journey) == (0, 0, 0)
    assert all(counts(kept))
