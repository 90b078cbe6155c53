"""The journey engine: enter stages by their conditions, complete steps, run the automatic ones.

A journey is in one stage at a time. Entering a stage makes its steps due together (after the
stage's delay; a `wait` step when its duration has passed). When every step of the stage is done
or skipped, the next stage is the first one after it whose condition holds; stages passed over
have their steps skipped; with no stage left the journey is completed. Each move writes an event
saying why, which `journey_standing` reads back for the back-office.

A step that fails (bad config, a template that does not render) is FAILED with `{"error": ...}`
and holds its stage: nothing later happens to the lead until someone fixes the activity and calls
`retry_step`, or skips it with `complete_step(step, skipped=True)`. A journey never moves on past
an email that was not sent without a person deciding so.

Functions flush, never commit. `complete_step` and `run_step` lock the lead's row, then the
journey's, first (on PostgreSQL; SQLite has one writer), so two steps finishing at once cannot
both miss the other, and a registration of the lead waits for them (or they for it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Select, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from leadsite.extensions import db
from leadsite.journeys.activities import AUTOMATIC_KINDS, ActivityFailed, Outcome, Run, perform
from leadsite.journeys.conditions import NO_CONDITION
from leadsite.journeys.plan import StagePlan, funnel_plan
from leadsite.journeys.stages import (
    FINISHED,
    advance,
    choose_stage,
    journey_ids,
    stage_finished,
    step_dict,
)
from leadsite.models import (
    Event,
    Journey,
    JourneyStatus,
    JourneyStep,
    Lead,
    Stage,
    StepStatus,
    utcnow,
)
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter

log = logging.getLogger(__name__)

JOURNEY_STEP_FAILED = event_types.JOURNEY_STEP_FAILED


class StepNotOpen(Exception):
    """The step cannot be completed now: its stage was not entered, or the journey has ended."""


def enter_first_stage(
    journey: Journey,
    now: datetime | None = None,
    events: EventWriter | None = None,
    plan: list[StagePlan] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Put a new journey in its funnel's first stage whose condition holds (or complete it).

    Call right after `start_journey`, once the journey's data is stored (conditions read it).
    Its pending steps become due (from `now`) if their stage is entered, skipped if not. The
    registration passes what it has already: its `EventWriter` (endpoints read), the `plan`
    given to `start_journey`, and the journey's `data` by data point name.
    """
    writer = _writer(journey, events)
    stages = funnel_plan(journey.funnel_id) if plan is None else plan
    state = inspect(journey)
    if state.has_identity:  # a new journey's steps are the ones in memory
        _load_steps(journey)  # read before anything changes, so that changes flush once
    choose_stage(journey, stages, now or utcnow(), writer, None, data)
    if state.session is not None:  # else built to be written as `NewRows`
        db.session.flush()


def complete_step(
    step: JourneyStep,
    actor_id: str | None = None,
    result: dict[str, Any] | None = None,
    skipped: bool = False,
    now: datetime | None = None,
    events: EventWriter | None = None,
) -> None:
    """Mark a due (or failed) step done or skipped, and move the journey on when its stage is
    finished. Completing a finished step again changes nothing; a pending step or an ended
    journey raises `StepNotOpen`. `actor_id` is the user (or None: the lead, or the engine)."""
    journey = lock_journey(step.journey)
    if step.status in FINISHED:
        return
    if journey.status != JourneyStatus.ACTIVE or step.status == StepStatus.PENDING:
        raise StepNotOpen()
    if actor_id is not None:
        result = {**(result or {}), "actor_id": actor_id}
    _finish(journey, step, result, skipped, now or utcnow(), _writer(journey, events), actor_id)
    db.session.flush()


def retry_step(step: JourneyStep, now: datetime | None = None) -> None:
    """Make a failed step due again (after its activity was fixed); the worker runs it next."""
    journey = lock_journey(step.journey)
    if step.status != StepStatus.FAILED or journey.status != JourneyStatus.ACTIVE:
        raise StepNotOpen()
    step.status, step.due_at, step.result = StepStatus.DUE, now or utcnow(), None
    db.session.flush()


def run_step(
    step: JourneyStep, now: datetime | None = None, events: EventWriter | None = None
) -> None:
    """Run one automatic step whose time has come, then move the journey on.

    Anything else (not due yet, already run, a task for a person) is left alone. Bad config
    makes the step FAILED; only database errors are raised, for the worker to retry.
    """
    now = now or utcnow()
    journey = lock_journey(step.journey)
    if step.status != StepStatus.DUE or step.kind not in AUTOMATIC_KINDS:
        return
    if step.due_at is None or step.due_at > now:
        return
    writer = _writer(journey, events)
    step.locked_until = None
    if journey.status != JourneyStatus.ACTIVE:
        step.status, step.done_at = StepStatus.SKIPPED, now
        step.result = {"reason": f"the journey is {journey.status}"}
        db.session.flush()
        return
    step.attempts += 1
    activity = step.activity
    if activity is None:
        outcome = Outcome({"reason": "the activity was removed from the funnel"}, skipped=True)
    else:
        stage = db.session.get(Stage, step.stage_id) if step.stage_id else None
        run = Run(step, journey, journey.lead, writer, now, stage.name if stage else "")
        run.config = dict(activity.config or {})
        try:
            with db.session.begin_nested():  # a failure undoes what the activity wrote
                outcome = perform(run)
        except ActivityFailed as error:
            _fail(journey, step, str(error), writer)
            return
        except SQLAlchemyError:
            raise
        except Exception as error:  # a bug must not stop the worker's loop on every run
            log.exception("journey step %s failed", step.id)
            _fail(journey, step, f"unexpected error ({type(error).__name__})", writer)
            return
    if outcome.waiting:  # its effect comes later (a webhook's delivery: `webhook_steps`)
        step.status, step.result = StepStatus.WAITING, outcome.result
        db.session.flush()
        return
    _finish(journey, step, outcome.result, outcome.skipped, now, writer, None)
    db.session.flush()


def fail_step(step: JourneyStep, error: str, result: dict[str, Any] | None = None) -> None:
    """Mark a waiting step FAILED with `error` (and `result`): its stage holds until staff
    retry or skip it. Anything but a waiting step is left alone."""
    journey = lock_journey(step.journey)
    if step.status != StepStatus.WAITING:
        return
    _fail(journey, step, error, _writer(journey, None))
    step.result = {**(result or {}), "error": error}
    db.session.flush()


def due_automatic_steps(now: datetime | None = None) -> Select[tuple[JourneyStep]]:
    """The automatic steps whose time has come and that no worker holds, oldest first.

    The worker adds its own claim (`with_for_update(skip_locked=True)`, a limit) and calls
    `run_step` on each.
    """
    now = now or utcnow()
    return (
        db.select(JourneyStep)
        .filter(
            JourneyStep.status == StepStatus.DUE.value,
            JourneyStep.due_at <= now,
            JourneyStep.kind.in_([kind.value for kind in AUTOMATIC_KINDS]),
            db.or_(JourneyStep.locked_until.is_(None), JourneyStep.locked_until <= now),
        )
        .order_by(JourneyStep.due_at, JourneyStep.id)
    )


NO_ENTRY_CONDITION = "the stage has no entry condition"


def journey_standing(journey: Journey) -> dict[str, Any]:
    """Where the journey stands and why: its stage, the condition's explanation, the stages it
    passed over, and the steps it waits on. For the back-office lead page."""
    event = db.session.scalar(
        db.select(Event)
        .filter(
            Event.lead_id == journey.lead_id,  # the timeline's index: journey_id has none
            Event.journey_id == journey.id,
            Event.type.in_([event_types.JOURNEY_STAGE_ENTERED, event_types.JOURNEY_COMPLETED]),
        )
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(1)
    )
    payload = event.payload if event is not None else {}
    stage = journey.current_stage
    explanation = payload.get("explanation")
    return {
        "status": journey.status,
        "stage": {"id": stage.id, "name": stage.name} if stage else None,
        "explanation": explanation,
        # What follows "because" on the page: the event's "no condition" read "because no
        # condition"; events and webhooks keep their word.
        "because": NO_ENTRY_CONDITION if explanation == NO_CONDITION else explanation,
        "skipped_stages": payload.get("skipped_stages", []),
        "since": event.created_at if event is not None else None,
        "waiting_on": [
            step
            for step in journey.steps
            if step.stage_id == journey.current_stage_id
            and step.status in (StepStatus.DUE, StepStatus.WAITING, StepStatus.FAILED)
        ],
    }


def _writer(journey: Journey, events: EventWriter | None) -> EventWriter:
    writer = events or EventWriter(journey.workspace_id, journey.lead_id)
    writer.endpoints()  # read now, so that changes are flushed once, at the end
    return writer


def lock_journey(journey: Journey) -> Journey:
    """Lock the journey's lead, then the journey, and read them and its steps afresh (another
    transaction may have finished a step of the same stage since they were loaded).

    The lead first: a registration locks the lead, then changes its journey, and the two
    orders would deadlock. Anything that writes to a journey (its data too) calls this before
    its first write. FOR NO KEY UPDATE, as the pipeline's: it leaves inserts that refer
    to these rows (events, outbox messages) free to go on.
    """
    db.session.scalars(
        db.select(Lead)
        .filter_by(id=journey.lead_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
    db.session.scalars(
        db.select(Journey)
        .filter_by(id=journey.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
    _load_steps(journey)
    return journey


def _load_steps(journey: Journey) -> None:
    """Read the journey's steps afresh from the database into `journey.steps` (another
    transaction may have changed them since the collection was loaded)."""
    steps = db.session.scalars(
        db.select(JourneyStep)
        .filter_by(journey_id=journey.id)
        .order_by(JourneyStep.position)
        .execution_options(populate_existing=True)
    ).all()
    set_committed_value(journey, "steps", list(steps))


def _finish(
    journey: Journey,
    step: JourneyStep,
    result: dict[str, Any] | None,
    skipped: bool,
    now: datetime,
    writer: EventWriter,
    actor_id: str | None,
) -> None:
    step.status = StepStatus.SKIPPED if skipped else StepStatus.DONE
    step.done_at, step.result, step.locked_until = now, result or None, None
    writer.emit(
        event_types.JOURNEY_STEP_COMPLETED,
        {**journey_ids(journey), "step": step_dict(step), "actor_id": actor_id},
        journey_id=journey.id,
    )
    if stage_finished(journey, journey.current_stage_id):
        advance(journey, now, writer)


def _fail(journey: Journey, step: JourneyStep, error: str, writer: EventWriter) -> None:
    step.status, step.result = StepStatus.FAILED, {"error": error}
    writer.emit(
        JOURNEY_STEP_FAILED,
        {**journey_ids(journey), "step": step_dict(step), "error": error},
        journey_id=journey.id,
    )
    db.session.flush()
