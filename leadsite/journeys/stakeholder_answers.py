"""What happens through a stakeholder's link: opening it, answering (approve or reject with a
comment, fill in data points, upload a document), and staff sending a new one.

Answering spends the link in the statement that checks it, so two answers racing each other
cannot both count; it records the decision, comment, time, IP and user agent on the link and
completes the step with `{"by": "stakeholder", "stakeholder": <email>, "decision": ...,
"comment": ...}`. A rejection is an answer too: the step is done with `decision: rejected`, and
the journey goes on as the funnel says; the activity's `decision_data_point` receives
`approved` or `rejected` for stage conditions and decisions to branch on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from werkzeug.datastructures import FileStorage

from leadsite import values
from leadsite.extensions import db
from leadsite.journeys.conditions import data_values
from leadsite.journeys.engine import StepNotOpen, complete_step, lock_journey, retry_step
from leadsite.journeys.journey_data import store_values
from leadsite.journeys.stakeholders import (
    APPROVED,
    DONE,
    REJECTED,
    action,
    filled_names,
    send_link,
)
from leadsite.journeys.uploads import UploadRefused, store_upload
from leadsite.models import (
    ActivityKind,
    DataPoint,
    DataPointType,
    JourneyStatus,
    JourneyStep,
    Lead,
    StakeholderLink,
    StepStatus,
    utcnow,
)
from leadsite.outbox.events import EventWriter

MAX_COMMENT = 2000
FIELD_PREFIX = "data."  # the input names of data points, as on the lead's own page
OPEN, ANSWERED, EXPIRED, CLOSED = "open", "answered", "expired", "closed"


class LinkClosed(Exception):
    """The link cannot be answered any more (answered meanwhile, expired, step closed)."""


@dataclass
class Reply:
    """What the stakeholder sent."""

    decision: str | None = None  # "approve" or "reject"
    comment: str = ""
    form: dict[str, str] | None = None  # data point inputs, by input name
    upload: FileStorage | None = None
    ip: str | None = None
    user_agent: str | None = None


def link_state(link: StakeholderLink, now: datetime | None = None) -> str:
    """open, answered, expired, or closed (the step was skipped, the journey ended, the lead
    erased: nothing to answer any more)."""
    if link.decided_at is not None:
        return ANSWERED
    if link.expires_at <= (now or utcnow()):
        return EXPIRED
    journey, step = link.journey, link.step
    lead = db.session.get(Lead, journey.lead_id)
    if lead is None or lead.erased_at is not None:
        return CLOSED
    if journey.status != JourneyStatus.ACTIVE or step.status != StepStatus.DUE:
        return CLOSED
    return OPEN


def mark_opened(link: StakeholderLink, now: datetime | None = None) -> None:
    """Remember the first time the stakeholder opened the page (staff see "opened")."""
    db.session.execute(
        update(StakeholderLink)
        .where(StakeholderLink.id == link.id, StakeholderLink.opened_at.is_(None))
        .values(opened_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def step_config(link: StakeholderLink) -> dict[str, Any]:
    activity = link.step.activity
    return dict(activity.config or {}) if activity is not None else {}


def data_points(workspace_id: str, names: list[str]) -> dict[str, DataPoint]:
    """The workspace's data points among `names`, by name."""
    if not names:
        return {}
    rows = db.session.scalars(
        db.select(DataPoint).filter(
            DataPoint.workspace_id == workspace_id, DataPoint.name.in_(names)
        )
    )
    return {point.name: point for point in rows}


def answer(link: StakeholderLink, reply: Reply, now: datetime | None = None) -> dict[str, str]:
    """Check the reply; when right, spend the link, store what it brings and complete the step.

    Returns the problems by input name (`decision`, `comment`, `data.<name>`, `document`),
    having changed nothing the caller keeps; raises `LinkClosed` when the link cannot be
    answered any more. Flushes, never commits."""
    now = now or utcnow()
    config = step_config(link)
    kind = action(config)
    comment = (reply.comment or "").strip()
    errors: dict[str, str] = {}
    if len(comment) > MAX_COMMENT:
        errors["comment"] = f"Keep the comment under {MAX_COMMENT} characters."
    decision = DONE
    if kind == "approve":
        if reply.decision not in ("approve", "reject"):
            errors["decision"] = "Choose whether you approve or reject."
        elif reply.decision == "reject" and not comment:
            errors["comment"] = "Say why you reject it: the comment is required."
        decision = APPROVED if reply.decision == "approve" else REJECTED
    points = data_points(link.workspace_id, filled_names(config))
    given = _check_values(points, filled_names(config), reply.form or {}, errors)
    if errors:
        return errors
    journey = lock_journey(link.journey)
    step = link.step
    if journey.status != JourneyStatus.ACTIVE or step.status != StepStatus.DUE:
        raise LinkClosed()
    file_id = None
    if kind == "upload":
        try:
            stored = store_upload(
                reply.upload,
                journey=journey,
                step=step,
                config=config,
                uploaded_by="stakeholder",
                uploader=link.email,
                ip=reply.ip,
                user_agent=reply.user_agent,
            )
        except UploadRefused as error:
            return {"document": str(error)}
        file_id = stored.id
    if not _spend(link, decision, comment, reply, now):
        raise LinkClosed()
    decision_point = data_points(link.workspace_id, [str(config.get("decision_data_point"))])
    for point in decision_point.values():
        given.append(
            (point, decision == APPROVED if point.type == DataPointType.BOOLEAN else decision)
        )
    store_values(journey, given)
    result: dict[str, Any] = {"by": "stakeholder", "stakeholder": link.email, "decision": decision}
    if comment:
        result["comment"] = comment
    if kind == "fill":
        result["data"] = {point.name: value for point, value in given if point.name in points}
    if file_id:
        result["file_id"] = file_id
    try:
        complete_step(step, result=result, now=now)
    except StepNotOpen:
        raise LinkClosed() from None
    return {}


def _check_values(
    points: dict[str, DataPoint], names: list[str], form: dict[str, str], errors: dict[str, str]
) -> list[tuple[DataPoint, Any]]:
    """The typed values of the data points asked for, as the lead's page checks them."""
    given: list[tuple[DataPoint, Any]] = []
    for name in names:
        point = points.get(name)
        if point is None:
            continue
        key = FIELD_PREFIX + name
        raw = form.get(key)
        if point.type == DataPointType.BOOLEAN:
            given.append((point, raw == "on"))
            continue
        if raw is None or not raw.strip():
            errors[key] = f"Enter {point.label[:1].lower()}{point.label[1:]}."
            continue
        try:
            given.append((point, values.data_point_value(point, raw)))
        except values.Invalid as error:
            errors[key] = f"{point.label} {error}." if str(error)[:1].islower() else str(error)
    return given


def _spend(link: StakeholderLink, decision: str, comment: str, reply: Reply, now: datetime) -> bool:
    """Record the answer on the link, if it is still open: True the first time only."""
    spent = db.session.execute(
        update(StakeholderLink)
        .where(
            StakeholderLink.id == link.id,
            StakeholderLink.decided_at.is_(None),
            StakeholderLink.expires_at > now,
        )
        .values(
            decision=decision,
            comment=comment or None,
            decided_at=now,
            ip=reply.ip,
            user_agent=(reply.user_agent or "")[:300] or None,
        )
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return False
    db.session.refresh(link)
    return True


def resend(step: JourneyStep, now: datetime | None = None) -> StakeholderLink | None:
    """Staff: email a new link for a stakeholder step that is due (its earlier links stop
    working) or failed (it is retried: due again). None when it failed again, for want of an
    address. Raises `StepNotOpen` for any other step. Flushes, never commits."""
    now = now or utcnow()
    journey = lock_journey(step.journey)
    if (
        step.kind != ActivityKind.STAKEHOLDER_TASK
        or journey.status != JourneyStatus.ACTIVE
        or step.status not in (StepStatus.DUE, StepStatus.FAILED)
    ):
        raise StepNotOpen()
    if step.status == StepStatus.FAILED:
        retry_step(step, now)
    db.session.execute(
        update(StakeholderLink)
        .where(
            StakeholderLink.step_id == step.id,
            StakeholderLink.decided_at.is_(None),
            StakeholderLink.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    config = dict(step.activity.config or {}) if step.activity is not None else {}
    writer = EventWriter(journey.workspace_id, journey.lead_id)
    link = send_link(journey, step, config, data_values(journey), now, writer)
    db.session.flush()
    return link


def retry(step: JourneyStep) -> None:
    """Run a failed step again, as staff's Retry does (lead page, My tasks): a stakeholder
    task emails a new link (or fails again, saying why); any other step is due again."""
    if step.kind == ActivityKind.STAKEHOLDER_TASK:
        resend(step)
    else:
        retry_step(step)
