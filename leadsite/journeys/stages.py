"""Moving a journey between stages: the next stage by decisions or conditions, entering it,
completing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leadsite import representations
from leadsite.analytics.counters import count_journey
from leadsite.analytics.rollup_session import note_empty_stage
from leadsite.journeys.activities import wait_duration
from leadsite.journeys.conditions import Facts, needs_data
from leadsite.journeys.decisions import (
    END,
    Route,
    decide,
    decisions_need_data,
    skipped_reason,
    timed_out,
)
from leadsite.journeys.due_dates import staff_task_due
from leadsite.journeys.plan import StagePlan, funnel_plan, pending_step
from leadsite.journeys.stakeholders import ask_stakeholders
from leadsite.journeys.waits import held, needs_journey_data, timed_out_target, timeout_of
from leadsite.models import (
    ActivityKind,
    FormEvent,
    Journey,
    JourneyStatus,
    JourneyStep,
    StepStatus,
)
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.representations import iso, journey_summary

FINISHED = (StepStatus.DONE, StepStatus.SKIPPED)


def advance(journey: Journey, now: datetime, writer: EventWriter) -> None:
    """Leave the finished current stage where its decisions say (or for the next one whose
    condition holds)."""
    stages = funnel_plan(journey.funnel_id)
    ids = [stage.id for stage in stages]
    if journey.current_stage_id not in ids:
        _complete(journey, [], now, writer, "its stage was removed from the funnel")
        return
    index = ids.index(journey.current_stage_id)
    choose_stage(journey, stages[index + 1 :], now, writer, previous=stages[index])


def choose_stage(
    journey: Journey,
    candidates: list[StagePlan],
    now: datetime,
    writer: EventWriter,
    previous: StagePlan | None,
    data: dict[str, Any] | None = None,
) -> None:
    """Enter the stage the finished `previous` stage's decisions choose, or (with none, or no
    `previous`) the first candidate whose condition holds, skipping the others before it; go on
    while the entered stage has nothing to do; complete the journey when none is left.

    `data`: the journey's data points by name, when the caller has them (else read if needed).
    """
    facts = Facts(journey.lead, journey, data)
    # Given `data` (a registration's), there is nothing to read: the plan is not looked at.
    if data is None and _needs_data(candidates if previous is None else [previous, *candidates]):
        facts.data()  # read before any step changes, so that they are flushed once
    skipped: list[dict[str, Any]] = []
    route = _route(journey, previous, candidates, facts) if previous is not None else None
    index = 0
    while index < len(candidates) and not (route is not None and route.to == END):
        stage = candidates[index]
        index += 1
        if route is not None and route.to is not None:
            if stage.id != route.to:
                _pass_over(journey, stage, skipped_reason(route), skipped, now)
                continue
            why = route.explanation
        else:
            holds, why = facts.evaluate(stage.condition)
            if not holds:
                _pass_over(journey, stage, why, skipped, now, "its stage was skipped: ")
                continue
            if route is not None:
                why = f"{route.explanation}: {why}"
        _enter(journey, stage, why, skipped, now, writer, previous, facts, route)
        ask_stakeholders(journey, stage, facts, now, writer)
        if not stage_finished(journey, stage.id):
            return
        previous, skipped = stage, []
        route = _route(journey, stage, candidates[index:], facts)
    if route is not None and route.to == END:
        for stage in candidates[index:]:
            _pass_over(journey, stage, skipped_reason(route), skipped, now)
        _complete(journey, skipped, now, writer, route.explanation, route)
        return
    _complete(journey, skipped, now, writer, "no stage left")


def _route(
    journey: Journey, stage: StagePlan, later: list[StagePlan], facts: Facts
) -> Route | None:
    """Where the finished `stage` sends the journey: a wait-until's timeout target first, then
    its decisions; None for "the next stage in order whose condition holds"."""
    timeout = timed_out_target(journey, stage.id)
    if timeout is not None:
        return timed_out(stage, later, *timeout)
    return decide(stage, later, facts)


def _needs_data(stages: list[StagePlan]) -> bool:
    return (
        any(needs_data(stage.condition) for stage in stages)
        or decisions_need_data(stages)
        or any(
            needs_journey_data(activity.config)
            for stage in stages
            for activity in stage.activities
            if activity.kind == ActivityKind.WAIT_UNTIL
        )
    )


def _pass_over(
    journey: Journey,
    stage: StagePlan,
    why: str,
    skipped: list[dict[str, Any]],
    now: datetime,
    step_reason: str = "",
) -> None:
    skipped.append({"id": stage.id, "name": stage.name, "explanation": why})
    _skip_steps(journey, stage.id, now, step_reason + why)


def _enter(
    journey: Journey,
    stage: StagePlan,
    why: str,
    skipped: list[dict[str, Any]],
    now: datetime,
    writer: EventWriter,
    previous: StagePlan | None,
    facts: Facts,
    route: Route | None,
) -> None:
    journey.current_stage_id = stage.id
    activities = {activity.id: activity for activity in stage.activities}
    _add_missing_steps(journey, stage)
    if not any(step.stage_id == stage.id for step in journey.steps):
        note_empty_stage(journey, stage.id)
    due_at = now + timedelta(minutes=max(stage.delay_minutes or 0, 0))
    released = []
    for step in journey.steps:
        # DUE too: `start_journey` makes the first stage's steps due before a stage is chosen.
        if step.stage_id != stage.id or step.status not in (StepStatus.PENDING, StepStatus.DUE):
            continue
        activity = activities.get(step.activity_id or "")
        if activity is None:
            step.status, step.done_at = StepStatus.SKIPPED, now
            step.result = {"reason": "the activity was removed from the stage"}
            continue
        step.status, step.due_at = StepStatus.DUE, due_at
        if step.kind == ActivityKind.WAIT:
            duration = wait_duration(activity.config or {})
            step.due_at = now + duration if duration is not None else due_at
        elif step.kind == ActivityKind.WAIT_UNTIL:
            timeout = timeout_of(activity.config or {})
            step.due_at = now + timeout if timeout is not None else due_at
            result = held(facts, activity.config or {})
            if result is not None:
                step.status, step.done_at, step.result = StepStatus.DONE, now, result
                released.append(step)
        elif step.kind == ActivityKind.STAFF_TASK:
            step.due_at = staff_task_due(activity.config or {}, due_at)
    writer.emit(
        event_types.JOURNEY_STAGE_ENTERED,
        {
            **journey_ids(journey),
            "stage": {"id": stage.id, "name": stage.name, "position": stage.position},
            "explanation": why,
            "condition": stage.condition,
            "skipped_stages": skipped,
            "previous_stage_id": previous.id if previous else None,
            **({"decision": route.event()} if route is not None else {}),
        },
        journey_id=journey.id,
    )
    for step in released:  # after the stage's entry, as the timeline reads
        writer.emit(
            event_types.JOURNEY_STEP_COMPLETED,
            {**journey_ids(journey), "step": step_dict(step), "actor_id": None},
            journey_id=journey.id,
        )


def _add_missing_steps(journey: Journey, stage: StagePlan) -> None:
    """Steps for activities added to the stage after the journey was generated."""
    have = {step.activity_id for step in journey.steps if step.stage_id == stage.id}
    position = max((step.position for step in journey.steps), default=-1)
    for activity in stage.activities:
        if activity.id not in have:
            position += 1
            journey.steps.append(pending_step(journey.id, stage, activity, position))


def _complete(
    journey: Journey,
    skipped: list[dict[str, Any]],
    now: datetime,
    writer: EventWriter,
    why: str,
    route: Route | None = None,
) -> None:
    _skip_steps(journey, None, now, "the journey was completed")
    journey.status, journey.completed_at = JourneyStatus.COMPLETED, now
    count_journey(journey, FormEvent.CONVERTED)
    last_stage_id, journey.current_stage_id = journey.current_stage_id, None
    writer.emit(
        event_types.JOURNEY_COMPLETED,
        {
            **journey_summary(journey),
            "lead_id": journey.lead_id,
            "completed_at": iso(now),
            "explanation": why,
            "skipped_stages": skipped,
            "last_stage_id": last_stage_id,
            **({"decision": route.event()} if route is not None else {}),
        },
        journey_id=journey.id,
    )


def _skip_steps(journey: Journey, stage_id: str | None, now: datetime, reason: str) -> None:
    """Skip the pending steps of one stage (or, with None, every step not yet finished)."""
    for step in journey.steps:
        if stage_id is not None and step.stage_id != stage_id:
            continue
        if step.status in (StepStatus.PENDING, StepStatus.DUE):
            step.status, step.done_at, step.result = StepStatus.SKIPPED, now, {"reason": reason}


def stage_finished(journey: Journey, stage_id: str | None) -> bool:
    return all(step.status in FINISHED for step in journey.steps if step.stage_id == stage_id)


def journey_ids(journey: Journey) -> dict[str, Any]:
    return {"journey_id": journey.id, "lead_id": journey.lead_id, "funnel_id": journey.funnel_id}


def step_dict(step: JourneyStep) -> dict[str, Any]:
    """A step as the API shows it, with its result: what journey events carry."""
    return {**representations.step_dict(step), "result": step.result}
