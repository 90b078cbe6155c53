"""A webhook step is done when its effect happened: its delivery (the outbox message naming it
in `step_id`) was answered 2xx. Until then the step is WAITING and holds its stage; when the
delivery dies (retries exhausted, or the address refused) the step is FAILED, staff are
emailed, and the lead page offers Retry (a new delivery) and Skip.

The worker settles the steps of a batch after recording its outcomes, each step in a
transaction of its own that locks the lead, then the journey (`engine.lock_journey`), as
every writer of a journey does. A redelivery that succeeds completes a failed step too; the
housekeeping settles what a worker stopped before settling.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app, render_template

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.journeys.activities import notify_recipients
from leadsite.journeys.emails import status_name
from leadsite.journeys.engine import complete_step, fail_step, lock_journey
from leadsite.models import (
    ActivityKind,
    DeliveryAttempt,
    Funnel,
    Journey,
    JourneyStatus,
    JourneyStep,
    Membership,
    MessageStatus,
    OutboxMessage,
    Role,
    Stage,
    StepStatus,
    User,
    utcnow,
)
from leadsite.outbox.staff_email import deactivated_members, queue_staff_emails
from leadsite.representations import iso

log = logging.getLogger(__name__)

SETTLED = (MessageStatus.DELIVERED, MessageStatus.DEAD)
OPEN = (StepStatus.WAITING, StepStatus.FAILED)


def settle_steps(message_ids: list[str]) -> int:
    """Settle the steps of these messages (a batch just recorded) whose delivery ended;
    returns how many steps changed."""
    if not message_ids:
        return 0
    settled = 0
    for message_id in message_ids:
        try:
            begin_write_transaction()
            message = db.session.get(OutboxMessage, message_id, populate_existing=True)
            if message is not None and settle(message):
                settled += 1
            db.session.commit()
        except Exception:  # the housekeeping settles it later; the batch's others go on
            db.session.rollback()
            log.exception("settling the step of message %s failed", message_id)
    return settled


def settle_finished_deliveries(limit: int = 500) -> int:
    """Settle waiting (or failed) webhook steps whose delivery ended while no worker settled
    them (a worker stopped between recording a batch and settling it)."""
    ids = list(
        db.session.scalars(
            db.select(OutboxMessage.id)
            .join(JourneyStep, JourneyStep.id == OutboxMessage.step_id)
            .where(
                JourneyStep.status.in_([s.value for s in OPEN]),
                OutboxMessage.status.in_([s.value for s in SETTLED]),
            )
            .limit(limit)
        )
    )
    db.session.commit()
    return settle_steps(ids)


def settle(message: OutboxMessage, now: datetime | None = None) -> bool:
    """Complete or fail the step waiting on `message`, by how its delivery ended; False when
    nothing changed (not ended yet, or the step moved on). Flushes, never commits."""
    if message.step_id is None or message.status not in SETTLED:
        return False
    step = db.session.get(JourneyStep, message.step_id)
    if step is None or step.kind != ActivityKind.WEBHOOK:
        return False
    journey = lock_journey(step.journey)
    db.session.refresh(message)  # a redelivery may have queued it again meanwhile
    now = now or utcnow()
    if message.status == MessageStatus.DELIVERED and step.status in OPEN:
        # Any delivery of the step's webhook is its effect, a redelivery of a dead one too.
        result = {
            "message_id": message.id,
            "url": message.target,
            "status_code": _status_code(message),
            "delivered_at": iso(message.delivered_at),
        }
        if journey.status == JourneyStatus.ACTIVE:
            complete_step(step, result=result, now=now)
        else:  # the journey ended meanwhile: the step records what happened, nothing moves
            step.status, step.done_at, step.result = StepStatus.DONE, now, result
            db.session.flush()
        return True
    if message.status == MessageStatus.DEAD and step.status == StepStatus.WAITING:
        if (step.result or {}).get("message_id") != message.id:
            return False  # an older delivery of a retried step: the newer one decides
        attempts = f"{message.attempts} attempt{'s' if message.attempts != 1 else ''}"
        error = f"the delivery failed after {attempts}: {message.last_error or 'no answer'}"
        fail_step(step, error, {"message_id": message.id, "url": message.target})
        if journey.status == JourneyStatus.ACTIVE:
            notify_failure(journey, step, error)
        return True
    return False


def _status_code(message: OutboxMessage) -> int | None:
    return db.session.scalar(
        db.select(DeliveryAttempt.status_code)
        .where(DeliveryAttempt.message_id == message.id, DeliveryAttempt.success.is_(True))
        .order_by(DeliveryAttempt.attempted_at.desc())
        .limit(1)
    )


def staff_recipients(funnel: Funnel) -> list[str]:
    """The funnel's notify emails but deactivated members', else (none left) the workspace's
    active administrators."""
    valid, _ = notify_recipients(list(funnel.notify_emails or []))
    gone = deactivated_members(funnel.workspace_id, valid)
    if kept := [address for address in valid if address not in gone]:
        return kept
    return list(
        db.session.scalars(
            db.select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.workspace_id == funnel.workspace_id,
                Membership.role == Role.ADMINISTRATOR,
                Membership.active.is_(True),
                User.active.is_(True),
            )
            .order_by(User.email)
        )
    )


def notify_failure(journey: Journey, step: JourneyStep, error: str) -> None:
    """Email staff that the step failed and holds the journey, through the outbox."""
    funnel = db.session.get(Funnel, journey.funnel_id)
    if funnel is None:
        return
    stage = db.session.get(Stage, step.stage_id) if step.stage_id else None
    lead = journey.lead
    context = {
        "lead": lead,
        "status_name": status_name(lead),
        "funnel": funnel,
        "stage_name": stage.name if stage else "",
        "data": {},
        "utm": {},
        "lead_url": f"{current_app.config['BASE_URL']}/p/leads/{lead.id}",
        "note": (
            # A failure's sentence may end with its own full stop.
            f"The step “{step.title}” failed and holds the journey: {error.rstrip('.')}. "
            "Retry it or skip it on the lead's page."
        ),
    }
    subject = f"A webhook step failed: {step.title} ({lead.display_name}, {funnel.name})"
    text = render_template("emails/staff_notification.txt", **context)
    html = render_template("emails/staff_notification.html", **context)
    queue_staff_emails(
        journey.workspace_id, staff_recipients(funnel), subject[:200], text, html, lead.id
    )
