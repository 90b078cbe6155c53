"""The engine: stages entered by their conditions, steps completed, the journey completed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.journeys.confirmation import _cancelled_unconfirmed
from leadsite.journeys.engine import (
    StepNotOpen,
    complete_step,
    journey_standing,
    run_step,
)
from leadsite.models import (
    ActivityKind,
    DataPointType,
    Funnel,
    JourneyStatus,
    StepStatus,
    WebhookEndpoint,
    Workspace,
    utcnow,
)
from tests import factories
from tests.journeys.helpers import begin, event_types, outbox, steps, timeline
from tests.statements import captured_statements

BIG_TEAM = {"match": "all", "rules": [{"field": "data.team_size", "op": "gt", "value": 10}]}
SMALL_TEAM = {"match": "all", "rules": [{"field": "data.team_size", "op": "lte", "value": 10}]}
VIP_OR_BIG = {
    "match": "any",
    "rules": [
        {"field": "tags", "op": "contains", "value": "vip"},
        {"field": "data.team_size", "op": "gte", "value": 50},
    ],
}


def sales_funnel(ws: Workspace) -> Funnel:
    """Welcome (a call), then Small teams or Big teams by team size, then Key account for VIPs
    or very big teams."""
    funnel = factories.funnel(ws)
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(welcome, ActivityKind.STAFF_TASK, "Call")
    small = factories.stage(funnel, "Small teams", SMALL_TEAM)
    factories.activity(small, ActivityKind.LEAD_TASK, "Read the guide")
    big = factories.stage(funnel, "Big teams", BIG_TEAM)
    factories.activity(big, ActivityKind.SET_STATUS, "Qualify", status="qualified")
    key = factories.stage(funnel, "Key account", VIP_OR_BIG)
    factories.activity(key, ActivityKind.ADD_TAG, "Tag", tag="key-account")
    return funnel


def test_a_journey_starts_in_the_first_stage_and_only_its_steps_are_due() -> None:
    ws = factories.workspace()
    journey = begin(factories.lead(ws), sales_funnel(ws))

    assert journey.current_stage.name == "Welcome"
    by_title = steps(journey)
    assert by_title["Call"].status == StepStatus.DUE
    assert {by_title[t].status for t in ("Read the guide", "Qualify", "Tag")} == {"pending"}
    [entered] = timeline(journey)
    assert entered.type == "journey.stage_entered"
    assert entered.payload["stage"]["name"] == "Welcome"
    assert entered.payload["explanation"] == "no condition"


def test_a_journey_walks_through_stages_by_their_conditions_to_completion() -> None:
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type=DataPointType.NUMBER)
    staff = factories.user(ws)
    journey = begin(factories.lead(ws, tags=["vip"]), sales_funnel(ws), {team_size: 40})

    complete_step(steps(journey)["Call"], actor_id=staff.id)
    db.session.commit()

    # Small teams does not hold (40 > 10), so Big teams is entered and Small teams skipped.
    assert journey.current_stage.name == "Big teams"
    assert steps(journey)["Read the guide"].status == StepStatus.SKIPPED
    entered = timeline(journey)[-1]
    assert entered.payload["explanation"] == "team_size (40) > 10"
    assert entered.payload["skipped_stages"] == [
        {
            "id": steps(journey)["Read the guide"].stage_id,
            "name": "Small teams",
            "explanation": "team_size (40) is not ≤ 10",
        }
    ]

    run_step(steps(journey)["Qualify"])
    db.session.commit()
    assert journey.lead.status == "qualified"
    assert journey.current_stage.name == "Key account"  # any: the lead is tagged vip
    assert timeline(journey)[-1].payload["explanation"] == "tags (vip) contains vip"

    run_step(steps(journey)["Tag"])
    db.session.commit()

    assert journey.status == JourneyStatus.COMPLETED
    assert journey.completed_at is not None
    assert journey.current_stage_id is None
    assert journey.lead.tags == ["vip", "key-account"]
    assert event_types(journey) == [
        "journey.stage_entered",
        "journey.step_completed",
        "journey.stage_entered",
        "lead.updated",  # set_status
        "journey.step_completed",
        "journey.stage_entered",
        "lead.updated",  # add_tag
        "journey.step_completed",
        "journey.completed",
    ]
    first_completed = timeline(journey)[1]
    assert first_completed.payload["step"]["title"] == "Call"
    assert first_completed.payload["actor_id"] == staff.id
    assert timeline(journey)[-1].payload["explanation"] == "no stage left"


def test_a_small_team_takes_the_other_branch_and_completes_when_no_stage_is_left() -> None:
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type=DataPointType.NUMBER)
    journey = begin(factories.lead(ws), sales_funnel(ws), {team_size: 4})

    complete_step(steps(journey)["Call"])
    assert journey.current_stage.name == "Small teams"
    complete_step(steps(journey)["Read the guide"], result={"read": True})
    db.session.commit()

    assert journey.status == JourneyStatus.COMPLETED
    by_title = steps(journey)
    assert by_title["Read the guide"].result == {"read": True}
    assert by_title["Qualify"].status == by_title["Tag"].status == StepStatus.SKIPPED
    completed = timeline(journey)[-1]
    assert completed.type == "journey.completed"
    assert [stage["name"] for stage in completed.payload["skipped_stages"]] == [
        "Big teams",
        "Key account",
    ]
    assert completed.payload["skipped_stages"][1]["explanation"] == (
        "tags (none) does not contain vip and team_size (4) is not ≥ 50"
    )


def test_the_first_stage_is_the_first_whose_condition_holds() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(
        factories.stage(
            funnel, "Partners", {"rules": [{"field": "custom.partner", "op": "eq", "value": True}]}
        ),
        ActivityKind.STAFF_TASK,
        "Partner call",
    )
    factories.activity(factories.stage(funnel, "Everyone"), ActivityKind.LEAD_TASK, "Profile")
    journey = begin(factories.lead(ws, custom_fields={"partner": "no"}), funnel)

    assert journey.current_stage.name == "Everyone"
    assert steps(journey)["Partner call"].status == StepStatus.SKIPPED
    assert steps(journey)["Profile"].status == StepStatus.DUE
    [entered] = timeline(journey)
    assert entered.payload["skipped_stages"][0]["explanation"] == "partner (no) ≠ yes"


def test_a_journey_no_stage_applies_to_is_completed_at_once() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    only = factories.stage(
        funnel, "VIP", {"rules": [{"field": "tags", "op": "eq", "value": "vip"}]}
    )
    factories.activity(only, ActivityKind.STAFF_TASK, "Call")
    journey = begin(factories.lead(ws), funnel)

    assert journey.status == JourneyStatus.COMPLETED
    assert steps(journey)["Call"].status == StepStatus.SKIPPED
    assert event_types(journey) == ["journey.completed"]


def test_a_stage_without_activities_is_passed_through() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.stage(funnel, "Checkpoint")
    factories.activity(factories.stage(funnel, "Work"), ActivityKind.STAFF_TASK, "Call")
    journey = begin(factories.lead(ws), funnel)

    assert journey.current_stage.name == "Work"
    entered = [event.payload for event in timeline(journey)]
    assert [payload["stage"]["name"] for payload in entered] == ["Checkpoint", "Work"]
    assert entered[1]["previous_stage_id"] == entered[0]["stage"]["id"]


def test_a_stage_delay_puts_its_steps_due_later() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.STAFF_TASK, "Call")
    later = factories.stage(funnel, "Follow-up", delay_minutes=90)
    factories.activity(later, ActivityKind.EMAIL_LEAD, "Reminder")
    journey = begin(factories.lead(ws), funnel)
    now = utcnow()

    complete_step(steps(journey)["Call"], now=now)

    assert steps(journey)["Reminder"].due_at == now + timedelta(minutes=90)


def test_completing_a_step_twice_changes_nothing_and_a_pending_step_cannot_be_completed() -> None:
    ws = factories.workspace()
    journey = begin(factories.lead(ws), sales_funnel(ws))
    call = steps(journey)["Call"]

    with pytest.raises(StepNotOpen):
        complete_step(steps(journey)["Qualify"])
    complete_step(call, skipped=True)
    complete_step(call)
    db.session.commit()

    assert call.status == StepStatus.SKIPPED
    assert event_types(journey).count("journey.step_completed") == 1


def test_activities_added_to_a_stage_after_the_journey_started_get_steps() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.STAFF_TASK, "Call")
    later = factories.stage(funnel, "Follow-up")
    journey = begin(factories.lead(ws), funnel)
    factories.activity(later, ActivityKind.STAFF_TASK, "Send a quote")

    complete_step(steps(journey)["Call"])
    db.session.commit()

    assert journey.current_stage.name == "Follow-up"
    assert steps(journey)["Send a quote"].status == StepStatus.DUE


def test_journey_standing_says_where_the_journey_is_and_why() -> None:
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type=DataPointType.NUMBER)
    journey = begin(factories.lead(ws), sales_funnel(ws), {team_size: 12})
    complete_step(steps(journey)["Call"])
    db.session.commit()

    standing = journey_standing(journey)

    assert standing["status"] == "active"
    assert standing["stage"]["name"] == "Big teams"
    assert standing["explanation"] == "team_size (12) > 10"
    assert [stage["name"] for stage in standing["skipped_stages"]] == ["Small teams"]
    assert [step.title for step in standing["waiting_on"]] == ["Qualify"]


def test_events_go_to_subscribed_webhooks() -> None:
    ws = factories.workspace()
    db.session.add(
        WebhookEndpoint(
            workspace_id=ws.id,
            url="https://hooks.example.com/in",
            events=["journey.stage_entered", "journey.completed"],
        )
    )
    db.session.commit()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.STAFF_TASK, "Call")
    journey = begin(factories.lead(ws), funnel)
    complete_step(steps(journey)["Call"])
    db.session.commit()

    sent = [message.payload["type"] for message in outbox("webhook")]
    assert sorted(sent) == ["journey.completed", "journey.stage_entered"]


def test_a_funnel_without_stages_completes_the_journey_at_once() -> None:
    ws = factories.workspace()
    journey = begin(factories.lead(ws), factories.funnel(ws))

    assert journey.status == JourneyStatus.COMPLETED
    assert event_types(journey) == ["journey.completed"]


@pytest.mark.parametrize("look_up", ["standing", "cancelled_unconfirmed"])
def test_a_journeys_events_are_found_through_the_lead_timelines_index(look_up: str) -> None:
    """events.journey_id has no index: the lead page's standing (and the confirmation check)
    read the whole events table, 125-258 ms a page at 100,000 leads on PostgreSQL (h/idx)."""
    ws = factories.workspace()
    journey = begin(factories.lead(ws), sales_funnel(ws), {})
    db.session.commit()
    with captured_statements(lambda sql: "FROM events" in sql) as statements:
        if look_up == "standing":
            journey_standing(journey)
        else:
            _cancelled_unconfirmed(journey)
    ((statement, parameters),) = statements

    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        plan = "\n".join(row[3] for row in rows)
    else:
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
    db.session.rollback()
    assert "ix_events_lead_created" in plan
