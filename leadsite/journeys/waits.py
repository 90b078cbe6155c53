"""Wait-until steps: hold a stage until a condition holds, or until a timeout passes.

Config (`Activity.config` of a `wait_until` activity)::

    {"condition": {...}, "timeout": {"days": 3}, "on_timeout": STAGE_ID | "end" | null}

The step is DUE from the moment its stage is entered, with `due_at` = entered + timeout. It is
done with `{"outcome": "condition_held", ...}` as soon as its condition holds: checked when the
stage is entered, whenever the lead or the journey's data changes (`recheck`, called by every
door that writes them), and once more when the timeout passes. Then the worker (which claims
automatic steps only once `due_at` has passed) finishes it with `{"outcome": "timed_out", ...}`
and, when `on_timeout` is set, the journey goes there once the stage is finished, whatever the
stage's decisions say.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leadsite.extensions import db
from leadsite.journeys.conditions import Facts, is_empty, needs_data, validate_condition
from leadsite.models import (
    ActivityKind,
    Journey,
    JourneyStatus,
    JourneyStep,
    Lead,
    StepStatus,
    utcnow,
)
from leadsite.outbox.events import EventWriter

CONDITION_HELD, TIMED_OUT = "condition_held", "timed_out"
UNITS = ("minutes", "hours", "days")
MAX_TIMEOUT = timedelta(days=3650)


def timeout_of(config: dict[str, Any]) -> timedelta | None:
    """The step's timeout, or None when its config gives no sensible one."""
    timeout = config.get("timeout")
    if not isinstance(timeout, dict) or not set(timeout) & set(UNITS):
        return None
    total = timedelta()
    for unit in UNITS:
        amount = timeout.get(unit, 0)
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            return None
        if amount > MAX_TIMEOUT.days * 24 * 60:
            return None
        total += timedelta(**{unit: amount})
    return total if timedelta() < total <= MAX_TIMEOUT else None


def config_problems(config: dict[str, Any], data_points: list[str] | None = None) -> list[str]:
    """Every problem with a wait-until's config, as `name: sentence`; empty when it can run."""
    errors = []
    condition = config.get("condition")
    if is_empty(condition):
        errors.append("condition: a wait-until needs a condition to wait for")
    else:
        errors += [f"condition: {error}" for error in validate_condition(condition, data_points)]
    if timeout_of(config) is None:
        errors.append("timeout: the timeout needs minutes, hours or days (at most ten years)")
    target = config.get("on_timeout")
    if target is not None and not (isinstance(target, str) and target):
        errors.append("on_timeout: must be a stage id, `end`, or null")
    return errors


def needs_journey_data(config: dict[str, Any]) -> bool:
    return needs_data(config.get("condition"))


def held(facts: Facts, config: dict[str, Any]) -> dict[str, Any] | None:
    """The step's result when its condition holds now; None while it does not."""
    if is_empty(config.get("condition")):
        return None  # not valid: it waits for its timeout rather than releasing at once
    holds, why = facts.evaluate(config.get("condition"))
    return {"outcome": CONDITION_HELD, "explanation": why} if holds else None


def at_timeout(facts: Facts, config: dict[str, Any], stage_name: str) -> dict[str, Any]:
    """The result of a step whose timeout has passed: the condition may have come to hold
    without a door noticing (a clock-based rule), so it is checked one last time."""
    result = held(facts, config)
    if result is not None:
        return result
    _, why = facts.evaluate(config.get("condition"))
    return {
        "outcome": TIMED_OUT,
        "explanation": f"timed out in “{stage_name}” waiting: {why}",
        "on_timeout": config.get("on_timeout") or None,
    }


def timed_out_target(journey: Journey, stage_id: str) -> tuple[str, str] | None:
    """The `on_timeout` target of the stage's first wait-until step that timed out with one,
    and its explanation; None when there is none."""
    for step in sorted(journey.steps, key=lambda s: s.position):
        result = step.result or {}
        if (
            step.stage_id == stage_id
            and step.kind == ActivityKind.WAIT_UNTIL
            and step.status == StepStatus.DONE
            and result.get("outcome") == TIMED_OUT
            and result.get("on_timeout")
        ):
            return result["on_timeout"], f"“{step.title}” {result.get('explanation', 'timed out')}"
    return None


def recheck(
    journey: Journey, now: datetime | None = None, writer: EventWriter | None = None
) -> int:
    """Finish the journey's waiting wait-until steps whose condition holds now, moving the
    journey on as their stage finishes; how many were released. Call after writing the lead's
    fields or the journey's data (flushed or not: the reads flush). Flushes, never commits."""
    if journey.status != JourneyStatus.ACTIVE:
        return 0
    waiting = _waiting_steps(db.select(JourneyStep).filter_by(journey_id=journey.id))
    if not waiting:
        return 0
    # The engine moves journeys through this module (its stages enter wait-until steps).
    from leadsite.journeys.engine import complete_step

    facts = Facts(journey.lead, journey)
    released = 0
    for step in waiting:
        if step.status != StepStatus.DUE or step.stage_id != journey.current_stage_id:
            continue  # a step released before this one finished the stage, or not entered yet
        result = held(facts, dict(step.activity.config or {})) if step.activity else None
        if result is not None:
            complete_step(step, result=result, now=now or utcnow(), events=writer)
            released += 1
    return released


# A journey still running that has a waiting wait-until step. The lead's journeys first, then
# their steps (an EXISTS, not a join): a join let SQLite start from every due step of every
# journey.
_WAITING_JOURNEY = (Journey.status == JourneyStatus.ACTIVE.value) & (
    db.select(JourneyStep.id)
    .where(
        JourneyStep.journey_id == Journey.id,
        JourneyStep.status == StepStatus.DUE.value,
        JourneyStep.kind == ActivityKind.WAIT_UNTIL.value,
    )
    .exists()
)


def recheck_lead(lead: Lead, now: datetime | None = None) -> int:
    """`recheck` every journey of the lead that has a waiting wait-until step (a lead's fields
    are seen by all its journeys)."""
    query = db.select(Journey).filter(Journey.lead_id == lead.id, _WAITING_JOURNEY)
    return sum(recheck(journey, now) for journey in db.session.scalars(query).all())


def leads_waiting(lead_ids: list[str]) -> set[str]:
    """Which of these leads have a journey with a waiting wait-until step (one query): the
    others have nothing for `recheck_lead` to release."""
    if not lead_ids:
        return set()
    query = db.select(Journey.lead_id).filter(Journey.lead_id.in_(lead_ids), _WAITING_JOURNEY)
    return set(db.session.scalars(query))


def _waiting_steps(statement: Any) -> list[JourneyStep]:
    return list(
        db.session.scalars(
            statement.filter(
                JourneyStep.kind == ActivityKind.WAIT_UNTIL.value,
                JourneyStep.status == StepStatus.DUE.value,
            ).order_by(JourneyStep.position)
        )
    )
