"""Decisions: a finished stage sends its journey down the first branch whose condition holds,
else `otherwise`, else on in order; every move is explained in the timeline."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.journeys.engine import complete_step, journey_standing
from leadsite.models import (
    ActivityKind,
    Event,
    Funnel,
    JourneyStatus,
    Stage,
    StepStatus,
)
from leadsite.outbox import event_types as types
from tests import factories
from tests.journeys.helpers import begin, steps, timeline

LARGE = {"match": "all", "rules": [{"field": "data.team_size", "op": "gt", "value": 10}]}
SPAM = {"match": "all", "rules": [{"field": "data.company", "op": "eq", "value": "Spam Inc"}]}


def sales_funnel(ws, qualify_task: bool = False) -> tuple[Funnel, dict[str, Stage]]:
    """Qualify → (large company) Sales review, else Self-serve; both end in Onboard."""
    funnel = factories.funnel(ws)
    qualify = factories.stage(funnel, "Qualify")
    if qualify_task:
        factories.activity(qualify, ActivityKind.STAFF_TASK, "Review")
    sales = factories.stage(funnel, "Sales review")
    factories.activity(sales, ActivityKind.STAFF_TASK, "Call")
    self_serve = factories.stage(funnel, "Self-serve")
    factories.activity(self_serve, ActivityKind.STAFF_TASK, "Send docs")
    onboard = factories.stage(funnel, "Onboard")
    factories.activity(onboard, ActivityKind.STAFF_TASK, "Kickoff")
    qualify.decisions = [
        {"condition": SPAM, "to": "end", "label": "Spam"},
        {"condition": LARGE, "to": sales.id, "label": "Large company"},
    ]
    qualify.otherwise = self_serve.id
    sales.otherwise = onboard.id
    db.session.commit()
    return funnel, {s.name: s for s in (qualify, sales, self_serve, onboard)}


def entered(journey) -> list[tuple[str, str]]:
    return [
        (e.payload["stage"]["name"], e.payload["explanation"])
        for e in timeline(journey)
        if e.type == types.JOURNEY_STAGE_ENTERED
    ]


def world(**data_values):
    ws = factories.workspace()
    points = {name: factories.data_point(ws, name) for name in ("company", "team_size")}
    return ws, {points[name]: value for name, value in data_values.items()}


def test_a_large_company_takes_the_branch_to_sales_review_and_skips_nothing_before_it() -> None:
    ws, data = world(team_size=50)
    funnel, stages = sales_funnel(ws)
    journey = begin(factories.lead(ws), funnel, data)

    assert journey.current_stage.name == "Sales review"
    name, why = entered(journey)[-1]
    assert name == "Sales review"
    assert why == (
        "“Qualify” took “Large company” (branch 2): team_size (50) > 10, to “Sales review”"
    )
    event = [e for e in timeline(journey) if e.type == types.JOURNEY_STAGE_ENTERED][-1]
    assert event.payload["decision"]["branch"] == {
        "index": 1,
        "label": "Large company",
        "to": stages["Sales review"].id,
    }
    assert journey_standing(journey)["explanation"] == why

    # Sales review's "otherwise" jumps over Self-serve to Onboard.
    complete_step(steps(journey)["Call"])
    db.session.commit()
    assert journey.current_stage.name == "Onboard"
    assert steps(journey)["Send docs"].status == StepStatus.SKIPPED
    assert steps(journey)["Send docs"].result["reason"].startswith("passed over: ")
    assert entered(journey)[-1][1] == ("“Sales review” has no branch; otherwise to “Onboard”")


def test_a_small_company_goes_the_other_way_to_self_serve() -> None:
    ws, data = world(team_size=4)
    funnel, _ = sales_funnel(ws, qualify_task=True)
    journey = begin(factories.lead(ws), funnel, data)
    assert journey.current_stage.name == "Qualify"

    complete_step(steps(journey)["Review"])
    db.session.commit()

    assert journey.current_stage.name == "Self-serve"
    assert steps(journey)["Call"].status == StepStatus.SKIPPED
    assert entered(journey)[-1] == (
        "Self-serve",
        "no branch of “Qualify” held (company (not set) ≠ Spam Inc;"
        " team_size (4) is not > 10); otherwise to “Self-serve”",
    )
    event = [e for e in timeline(journey) if e.type == types.JOURNEY_STAGE_ENTERED][-1]
    assert event.payload["skipped_stages"] == [
        {
            "id": funnel.stages[1].id,
            "name": "Sales review",
            "explanation": "passed over: " + entered(journey)[-1][1],
        }
    ]
    # Self-serve has no decisions: on in order, to Onboard.
    complete_step(steps(journey)["Send docs"])
    db.session.commit()
    assert journey.current_stage.name == "Onboard"


def test_an_end_branch_completes_the_journey_and_says_why() -> None:
    ws, data = world(company="Spam Inc", team_size=50)
    funnel, _ = sales_funnel(ws)
    journey = begin(factories.lead(ws), funnel, data)

    assert journey.status == JourneyStatus.COMPLETED
    assert {s.status for s in steps(journey).values()} == {StepStatus.SKIPPED}
    done = [e for e in timeline(journey) if e.type == types.JOURNEY_COMPLETED][-1]
    assert done.payload["explanation"] == (
        "“Qualify” took “Spam” (branch 1): company (Spam Inc) = Spam Inc, to the end"
    )
    assert [s["name"] for s in done.payload["skipped_stages"]] == [
        "Sales review",
        "Self-serve",
        "Onboard",
    ]


def test_the_target_is_entered_whatever_its_own_condition_says() -> None:
    ws, data = world(team_size=50)
    funnel, stages = sales_funnel(ws)
    stages["Sales review"].condition = {
        "rules": [{"field": "data.company", "op": "eq", "value": "Never"}]
    }
    db.session.commit()
    journey = begin(factories.lead(ws), funnel, data)
    assert journey.current_stage.name == "Sales review"


def test_a_branch_whose_target_is_gone_or_behind_falls_back_to_otherwise() -> None:
    ws, data = world(team_size=50)
    funnel, stages = sales_funnel(ws, qualify_task=True)
    journey = begin(factories.lead(ws), funnel, data)
    # Sales review moved before Qualify after the decision was saved: the branch is not followed.
    stages["Sales review"].position, stages["Qualify"].position = 0, 1
    db.session.commit()

    complete_step(steps(journey)["Review"])
    db.session.commit()

    assert journey.current_stage.name == "Self-serve"
    assert entered(journey)[-1][1] == (
        "“Qualify” took “Large company” (branch 2): team_size (50) > 10, but its target is gone"
        " or not after it; otherwise to “Self-serve”"
    )


def test_funnels_without_decisions_still_skip_by_condition() -> None:
    ws, data = world(team_size=4)
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Big", LARGE), ActivityKind.STAFF_TASK, "Call")
    factories.activity(factories.stage(funnel, "All"), ActivityKind.STAFF_TASK, "Mail")
    journey = begin(factories.lead(ws), funnel, data)

    assert journey.current_stage.name == "All"
    event = db.session.scalars(
        db.select(Event).filter_by(journey_id=journey.id, type=types.JOURNEY_STAGE_ENTERED)
    ).one()
    assert "decision" not in event.payload
    assert event.payload["explanation"] == "no condition"
