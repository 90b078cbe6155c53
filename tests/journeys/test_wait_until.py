"""Wait-until steps: released as soon as their condition holds (on entry, or when a door writes
the lead or its data), or finished by the worker at their timeout, going to `on_timeout`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.journeys.engine import due_automatic_steps, run_step
from leadsite.journeys.waits import recheck_lead
from leadsite.models import (
    ActivityKind,
    Event,
    Journey,
    JourneyStep,
    Lead,
    OriginKind,
    StepStatus,
    utcnow,
)
from leadsite.outbox import event_types as types
from leadsite.outbox.worker import run_steps
from leadsite.public.tokens import journey_action_token
from leadsite.registration import JourneyDataInput, LeadInput, RegistrationContext
from leadsite.registration.batch import register_many
from tests import factories
from tests.statements import captured_statements

HAS_COMPANY = {"match": "all", "rules": [{"field": "data.company", "op": "set"}]}
QUALIFIED = {"match": "all", "rules": [{"field": "status", "op": "eq", "value": "qualified"}]}


class World:
    """A funnel whose first stage waits (3 days at most) for `condition`: held, the journey goes
    on to Onboard (its "otherwise", past Chase); timed out, to Chase."""

    def __init__(self, client, condition=HAS_COMPANY, on_timeout: bool = True) -> None:
        self.client = client
        ws = self.workspace = factories.workspace()
        factories.data_point(ws, "company")
        self.funnel = factories.funnel(ws)
        wait = factories.stage(self.funnel, "Wait for details")
        chase = factories.stage(self.funnel, "Chase")
        factories.activity(chase, ActivityKind.STAFF_TASK, "Chase them")
        onboard = factories.stage(self.funnel, "Onboard")
        factories.activity(onboard, ActivityKind.STAFF_TASK, "Kickoff")
        factories.activity(
            wait,
            ActivityKind.WAIT_UNTIL,
            "Wait for details",
            condition=condition,
            timeout={"days": 3},
            on_timeout=chase.id if on_timeout else None,
        )
        wait.otherwise = onboard.id
        db.session.commit()
        self.origin = factories.origin(self.funnel, OriginKind.API)
        self.auth = {"Authorization": f"Bearer {factories.api_key(ws)}"}

    def register(self, **body):
        return self.client.post(
            f"/api/v1/leads?ref={self.origin.ref}",
            json={"Email": "ada@example.com", **body},
            headers=self.auth,
        )

    def journey(self) -> Journey:
        db.session.rollback()
        db.session.expire_all()
        return db.session.scalars(db.select(Journey).filter_by(funnel_id=self.funnel.id)).one()

    def step(self, title: str = "Wait for details") -> JourneyStep:
        return db.session.scalars(
            db.select(JourneyStep).filter_by(journey_id=self.journey().id, title=title)
        ).one()


def stage_name(journey: Journey) -> str | None:
    return journey.current_stage.name if journey.current_stage else None


def test_the_step_waits_and_the_worker_leaves_it_alone_before_its_timeout(client) -> None:
    world = World(client)
    before = utcnow()
    assert world.register().status_code == 201
    step = world.step()

    assert step.status == StepStatus.DUE
    assert before + timedelta(days=3) <= step.due_at <= utcnow() + timedelta(days=3)
    assert stage_name(world.journey()) == "Wait for details"
    almost = step.due_at - timedelta(minutes=1)
    assert list(db.session.scalars(due_automatic_steps(almost))) == []
    run_step(step, now=almost)
    assert step.status == StepStatus.DUE


def test_new_journey_data_through_the_api_releases_the_step(client, auth) -> None:
    world = World(client)
    lead_id = world.register().json["data"]["id"]

    response = world.register(JourneyData=[{"Name": "company", "Value": "Acme"}])

    assert response.status_code == 200
    step = world.step()
    assert step.status == StepStatus.DONE
    assert step.result == {"outcome": "condition_held", "explanation": "company (Acme) is set"}
    journey = world.journey()
    assert stage_name(journey) == "Onboard"
    assert world.step("Chase them").status == StepStatus.SKIPPED
    auth.login(factories.user(world.workspace).email)
    page = client.get(f"/p/leads/{lead_id}").get_data(as_text=True)
    assert "Condition held: company (Acme) is set" in page


def test_a_lead_field_changed_through_the_api_releases_the_step(client) -> None:
    world = World(client, condition=QUALIFIED)
    lead_id = world.register().json["data"]["id"]

    response = client.patch(
        f"/api/v1/leads/{lead_id}", json={"status": "qualified"}, headers=world.auth
    )

    assert response.status_code == 200
    assert world.step().result["outcome"] == "condition_held"
    assert stage_name(world.journey()) == "Onboard"


def test_a_condition_that_holds_on_entry_releases_the_step_at_once(client) -> None:
    world = World(client)
    world.register(JourneyData=[{"Name": "company", "Value": "Acme"}])

    assert world.step().status == StepStatus.DONE
    assert stage_name(world.journey()) == "Onboard"


def test_the_lead_filling_the_data_on_the_journey_page_releases_the_step(client) -> None:
    world = World(client)
    wait_stage = world.funnel.stages[0]
    factories.activity(wait_stage, ActivityKind.LEAD_TASK, "About you", data_points=["company"])
    world.register()
    journey = world.journey()
    task = world.step("About you")

    response = client.post(
        f"/j/{journey.access_token}/steps/{task.id}",
        data={"_token": journey_action_token(journey.id), "data.company": "Acme"},
    )

    assert response.status_code == 303
    assert world.step().result["outcome"] == "condition_held"
    assert stage_name(world.journey()) == "Onboard"


@pytest.mark.parametrize("on_timeout", [True, False])
def test_at_its_timeout_the_worker_finishes_the_step_and_the_journey_goes_on(
    client, on_timeout: bool
) -> None:
    world = World(client, on_timeout=on_timeout)
    world.register()
    later = world.step().due_at + timedelta(seconds=1)

    (claimed,) = db.session.scalars(due_automatic_steps(later))
    run_step(claimed, now=later)
    db.session.commit()

    step = world.step()
    assert step.status == StepStatus.DONE
    assert step.result["outcome"] == "timed_out"
    assert step.result["explanation"] == (
        "timed out in “Wait for details” waiting: company is not set"
    )
    journey = world.journey()
    entered = db.session.scalars(
        db.select(Event)
        .filter_by(journey_id=journey.id, type=types.JOURNEY_STAGE_ENTERED)
        .order_by(Event.created_at.desc(), Event.id.desc())
    ).first()
    if on_timeout:
        # The timeout's own branch wins over the stage's "otherwise".
        assert stage_name(journey) == "Chase"
        assert entered.payload["explanation"] == (
            "“Wait for details” timed out in “Wait for details” waiting: company is not set,"
            " to “Chase”"
        )
    else:
        assert stage_name(journey) == "Onboard"
        assert entered.payload["explanation"].endswith("otherwise to “Onboard”")


def test_the_worker_loop_runs_a_step_whose_timeout_passed(client) -> None:
    world = World(client)
    world.register()
    step = world.step()
    step.due_at = utcnow() - timedelta(seconds=1)  # as if three days went by
    db.session.commit()

    assert run_steps() == 1

    assert world.step().result["outcome"] == "timed_out"
    assert stage_name(world.journey()) == "Chase"


def _sqlite_plan(statement: str, parameters: object) -> str:
    rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return "\n".join(row[3] for row in rows)


def test_a_leads_recheck_reads_its_own_journeys_steps_not_every_due_step(client) -> None:
    """Each registration that updates a lead looks for its waiting steps: through the lead's
    journeys and their steps' index, never through every due step of the workspace (SQLite,
    without statistics, took ix_journey_steps_status_due: the import's updates slowed down as
    the leads grew)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans from its own statistics (autovacuum), not from the indexes")
    world = World(client)
    lead_id = world.register().json["data"]["id"]
    lead = db.session.get(Lead, lead_id)

    with captured_statements(lambda s: "journey_steps" in s and "SELECT" in s) as statements:
        recheck_lead(lead)

    plans = [_sqlite_plan(statement, parameters) for statement, parameters in statements]
    assert plans
    for plan in plans:
        assert "ix_journey_steps_status_due" not in plan, plan
        assert "ix_journey_steps_journey_status" in plan, plan


def test_a_batch_releases_the_steps_of_the_leads_whose_condition_now_holds(client) -> None:
    """`register_many` rechecks only the leads it finds waiting (one query), and those still."""
    world = World(client)
    for email in ("ada@example.com", "bob@example.com"):
        assert world.register(Email=email).status_code == 201

    outcomes = register_many(
        world.origin,
        [
            LeadInput(email="bob@example.com", first_name="Bob"),
            LeadInput(email="ada@example.com", journey_data=[JourneyDataInput("company", "Acme")]),
            LeadInput(email="cy@example.com", journey_data=[JourneyDataInput("company", "Cy")]),
        ],
        RegistrationContext(),
    )

    assert [outcome.status for outcome in outcomes] == ["updated", "updated", "created"]
    db.session.rollback()
    steps = {
        lead.email: step.status
        for step, lead in db.session.execute(
            db.select(JourneyStep, Lead)
            .join(Journey, Journey.id == JourneyStep.journey_id)
            .join(Lead, Lead.id == Journey.lead_id)
            .where(Journey.funnel_id == world.funnel.id, JourneyStep.title == "Wait for details")
        )
    }
    assert steps == {
        "ada@example.com": StepStatus.DONE,  # its condition holds now
        "bob@example.com": StepStatus.DUE,  # still no company
        "cy@example.com": StepStatus.DONE,  # held on entry
    }
