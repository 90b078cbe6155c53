"""Double opt-in holds a journey: generated AWAITING at registration, started when the lead
confirms their email, cancelled when the funnel's confirmation window passes without it (and
started after all should the lead confirm later: registering again sends a new link).

Functions flush, never commit, except `cancel_unconfirmed`, which the worker's housekeeping
runs in transactions of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.journeys.engine import enter_first_stage, lock_journey
from leadsite.journeys.stages import journey_ids
from leadsite.models import Event, Funnel, Journey, JourneyStatus, Lead, StepStatus, utcnow
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.representations import iso, journey_summary

HELD = "it waits for the lead to confirm their email (double opt-in)"
UNCONFIRMED = "unconfirmed"  # the cause a cancellation for want of confirmation records
CANCEL_BATCH = 100


def holds_for_confirmation(funnel: Funnel, lead: Lead) -> bool:
    """True when a new journey of `lead` in `funnel` waits for the confirmation: the funnel
    asks for double opt-in and a confirmation email can go to a lead who has not confirmed.
    A lead without an email could never confirm: their journey starts at once."""
    return (
        bool(funnel.double_opt_in)
        and lead.confirmed_at is None
        and lead.erased_at is None
        and bool(lead.email)
    )


def confirm_by(journey: Journey, funnel: Funnel) -> datetime:
    """When an awaiting journey is cancelled if the lead has not confirmed."""
    return journey.created_at + timedelta(hours=funnel.confirm_within_hours)


def start_confirmed(lead: Lead, now: datetime | None = None) -> list[Journey]:
    """Start the lead's journeys that waited for this confirmation: each becomes ACTIVE and
    enters its first stage, with a `journey.started` event saying why. A journey cancelled
    because this confirmation came late starts too: the lead has just asked for it. Call
    after setting `lead.confirmed_at`, with the lead locked; returns the journeys started."""
    now = now or utcnow()
    candidates = db.session.scalars(
        db.select(Journey)
        .filter(
            Journey.lead_id == lead.id,
            Journey.status.in_([JourneyStatus.AWAITING.value, JourneyStatus.CANCELLED.value]),
        )
        .order_by(Journey.created_at, Journey.id)
    ).all()
    started = []
    for journey in candidates:
        late = journey.status == JourneyStatus.CANCELLED
        if late and not _cancelled_unconfirmed(journey):
            continue
        lock_journey(journey)
        if journey.status != (JourneyStatus.CANCELLED if late else JourneyStatus.AWAITING):
            continue  # another transaction moved it meanwhile
        if late:
            _reopen_steps(journey)
            db.session.flush()  # before `enter_first_stage` reads the steps afresh
        journey.status = JourneyStatus.ACTIVE
        writer = EventWriter(journey.workspace_id, journey.lead_id)
        why = "the lead confirmed their email"
        writer.emit(
            event_types.JOURNEY_STARTED,
            {
                **journey_ids(journey),
                "explanation": f"{why}, after the journey was cancelled for want of it"
                if late
                else why,
                "confirmed_at": iso(lead.confirmed_at),
            },
            journey_id=journey.id,
        )
        enter_first_stage(journey, now=now, events=writer)
        started.append(journey)
    db.session.flush()
    return started


def _cancelled_unconfirmed(journey: Journey) -> bool:
    """Whether the journey's last cancellation was this module's, for want of confirmation."""
    payload = db.session.scalar(
        db.select(Event.payload)
        # lead_id for the timeline's index (lead_id, created_at): journey_id has none
        .filter_by(
            lead_id=journey.lead_id, journey_id=journey.id, type=event_types.JOURNEY_CANCELLED
        )
        .order_by(Event.created_at.desc(), Event.id.desc())
        .limit(1)
    )
    return bool(payload) and payload.get("cause") == UNCONFIRMED


def _reopen_steps(journey: Journey) -> None:
    """The steps the cancellation skipped wait for their stage again."""
    for step in journey.steps:
        if step.status == StepStatus.SKIPPED and (step.result or {}).get("cause") == UNCONFIRMED:
            step.status, step.done_at, step.result = StepStatus.PENDING, None, None


def cancel_unconfirmed(now: datetime | None = None, batch: int = CANCEL_BATCH) -> int:
    """Cancel the awaiting journeys whose funnel's confirmation window has passed, a batch per
    transaction (each journey locked as the engine locks it); returns how many."""
    now = now or utcnow()
    cancelled = 0
    while True:
        ids = _overdue(now, batch)
        if not ids:
            return cancelled
        begin_write_transaction()
        for journey_id in ids:
            journey = db.session.get(Journey, journey_id)
            if journey is not None and cancel_journey(journey, now):
                cancelled += 1
        db.session.commit()
        if len(ids) < batch:
            return cancelled


def _overdue(now: datetime, limit: int) -> list[str]:
    """Ids of awaiting journeys past their funnel's window, per window length (a funnel's
    hours are few distinct values), so that the cutoff is a plain comparison on both databases."""
    windows = db.session.scalars(
        db.select(Funnel.confirm_within_hours)
        .join(Journey, Journey.funnel_id == Funnel.id)
        .where(Journey.status == JourneyStatus.AWAITING)
        .distinct()
    ).all()
    ids: list[str] = []
    for hours in windows:
        ids += db.session.scalars(
            db.select(Journey.id)
            .join(Funnel, Funnel.id == Journey.funnel_id)
            .where(
                Journey.status == JourneyStatus.AWAITING,
                Funnel.confirm_within_hours == hours,
                Journey.created_at < now - timedelta(hours=hours),
            )
            .order_by(Journey.created_at)
            .limit(limit - len(ids))
        ).all()
        if len(ids) >= limit:
            break
    db.session.commit()  # end the read: the cancellations take the write lock
    return ids


def cancel_journey(journey: Journey, now: datetime) -> bool:
    """Cancel one awaiting journey (its steps skipped) with a `journey.cancelled` event; False
    when it is no longer awaiting (the lead confirmed meanwhile). Flushes."""
    lock_journey(journey)
    if journey.status != JourneyStatus.AWAITING:
        return False
    funnel = db.session.get(Funnel, journey.funnel_id)
    hours = funnel.confirm_within_hours if funnel else 0
    reason = f"the lead did not confirm their email within {hours} hours"
    journey.status = JourneyStatus.CANCELLED
    for step in journey.steps:
        if step.status in (StepStatus.PENDING, StepStatus.DUE):
            step.status, step.done_at = StepStatus.SKIPPED, now
            step.result = {"reason": f"the journey was cancelled: {reason}", "cause": UNCONFIRMED}
    payload: dict[str, Any] = {
        **journey_summary(journey),
        "lead_id": journey.lead_id,
        "cancelled_at": iso(now),
        "reason": reason,
        "cause": UNCONFIRMED,
    }
    EventWriter(journey.workspace_id, journey.lead_id).emit(
        event_types.JOURNEY_CANCELLED, payload, journey_id=journey.id
    )
    db.session.flush()
    return True


def awaiting_lead_ids(lead_ids: list[str]) -> set[str]:
    """Which of these leads have a journey awaiting their confirmation (the leads list)."""
    if not lead_ids:
        return set()
    return set(
        db.session.scalars(
            db.select(Journey.lead_id).where(
                Journey.lead_id.in_(lead_ids), Journey.status == JourneyStatus.AWAITING
            )
        )
    )
