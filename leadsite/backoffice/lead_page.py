"""The lead page's data beyond the lead: journeys and where they stand, timeline, deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, g
from sqlalchemy.orm import selectinload

from leadsite.backoffice.funnel_origin_forms import KIND_LABELS as ORIGIN_KIND_LABELS
from leadsite.backoffice.stakeholder_links import latest_links
from leadsite.extensions import db
from leadsite.journeys.confirmation import confirm_by
from leadsite.journeys.engine import journey_standing
from leadsite.journeys.evidence import journey_evidence
from leadsite.journeys.lead_activity_config import MARKED_DONE_BY_STAFF
from leadsite.models import (
    ActivityKind,
    DeliveryAttempt,
    Event,
    Journey,
    JourneyData,
    JourneyStatus,
    Lead,
    Origin,
    OutboxMessage,
    StepStatus,
    User,
)
from leadsite.outbox import event_types

TIMELINE_LIMIT = 100
DELIVERIES_LIMIT = 50

EVENT_LABELS = {
    event_types.LEAD_CREATED: "Registered",
    event_types.LEAD_UPDATED: "Updated",
    event_types.LEAD_CONFIRMED: "Confirmed their email",
    event_types.LEAD_OPTED_OUT: "Opted out",
    event_types.LEAD_ERASED: "Personal data erased",
    event_types.JOURNEY_CREATED: "Journey created",
    event_types.JOURNEY_STAGE_ENTERED: "Entered a stage",
    event_types.JOURNEY_STEP_COMPLETED: "Step finished",
    event_types.JOURNEY_COMPLETED: "Journey completed",
    event_types.JOURNEY_STEP_FAILED: "Step failed",
    event_types.JOURNEY_STARTED: "Journey started: email confirmed",
    event_types.JOURNEY_CANCELLED: "Journey cancelled",
    event_types.LEAD_REQUEST: "Request",
    event_types.LEAD_HELD: "Held: looked like a bot",
    event_types.JOURNEY_TASK_UNASSIGNED: "Task unassigned",
}


def lead_or_404(lead_id: str) -> Lead:
    """The current workspace's lead; another workspace's id is a 404 like a missing one."""
    lead = db.session.scalar(db.select(Lead).filter_by(id=lead_id, workspace_id=g.workspace.id))
    if lead is None:
        abort(404)
    return lead


@dataclass
class JourneyView:
    journey: Journey
    standing: dict[str, Any]
    data: list[JourneyData]
    stage_names: dict[str, str]

    @property
    def confirm_by(self) -> datetime | None:
        """An awaiting journey's deadline for the lead's confirmation."""
        if self.journey.status != JourneyStatus.AWAITING:
            return None
        return confirm_by(self.journey, self.journey.funnel)

    def can_complete(self, step: Any) -> bool:
        """Staff may tick off their own tasks once due."""
        return (
            step.kind in (ActivityKind.STAFF_TASK, *MARKED_DONE_BY_STAFF)
            and step.status == StepStatus.DUE
            and self.journey.status == JourneyStatus.ACTIVE
        )


def journeys(lead: Lead) -> list[JourneyView]:
    rows = db.session.scalars(
        db.select(Journey)
        .filter_by(lead_id=lead.id, workspace_id=lead.workspace_id)
        .options(
            selectinload(Journey.funnel),
            selectinload(Journey.origin),
            selectinload(Journey.steps),
            selectinload(Journey.data).selectinload(JourneyData.data_point),
        )
        .order_by(Journey.created_at)
        .execution_options(populate_existing=True)
    )
    views = []
    for journey in rows:
        stage_names = {stage.id: stage.name for stage in journey.funnel.stages}
        data = sorted(journey.data, key=lambda item: item.data_point.label.lower())
        views.append(JourneyView(journey, journey_standing(journey), data, stage_names))
    return views


def unconfirmed(lead: Lead, views: list[JourneyView]) -> bool:
    """A funnel with double opt-in waits for the lead to confirm their email."""
    return lead.confirmed_at is None and any(v.journey.funnel.double_opt_in for v in views)


def timeline(lead: Lead) -> list[Event]:
    return list(
        db.session.scalars(
            db.select(Event)
            .filter_by(lead_id=lead.id, workspace_id=lead.workspace_id)
            .order_by(Event.created_at.desc(), Event.id.desc())
            .limit(TIMELINE_LIMIT)
        )
    )


def event_summary(event: Event) -> str:
    """One line on what the event was about, from its payload."""
    payload = event.payload or {}
    if payload.get("erased"):
        return ""
    if event.type == event_types.LEAD_UPDATED:
        changed = payload.get("changed") or sorted((payload.get("changes") or {}).keys())
        return ("Changed: " + ", ".join(changed).replace("_", " ")) if changed else ""
    if event.type == event_types.LEAD_CREATED:
        facts = payload.get("registration") or {}
        kind = facts.get("origin_kind")
        return f"Origin: {ORIGIN_KIND_LABELS.get(kind, kind)}" if kind else ""
    if event.type == event_types.JOURNEY_STAGE_ENTERED:
        stage = (payload.get("stage") or {}).get("name", "")
        why = payload.get("explanation")
        return f"{stage}: {why}" if why else stage
    if event.type in (event_types.JOURNEY_STEP_COMPLETED, event_types.JOURNEY_STEP_FAILED):
        step = payload.get("step") or {}
        text = f"{step.get('title', '')} ({step.get('status', '')})"
        return f"{text}: {payload['error']}" if payload.get("error") else text
    if event.type == event_types.LEAD_HELD:
        return str(payload.get("reason") or "")
    if event.type == event_types.JOURNEY_TASK_UNASSIGNED:
        step = payload.get("step") or {}
        who = payload.get("previous_assignee") or {}
        name = who.get("name") or who.get("email") or "its assignee"
        return f"{step.get('title', '')}: {name} was deactivated; open to the team"
    if event.type in (
        event_types.JOURNEY_COMPLETED,
        event_types.JOURNEY_CREATED,
        event_types.JOURNEY_STARTED,
    ):
        return payload.get("explanation") or ""
    if event.type == event_types.JOURNEY_CANCELLED:
        return str(payload.get("reason") or "")
    if event.type == event_types.LEAD_REQUEST:
        data = {**(payload.get("message_data") or {}), **(payload.get("request_data") or {})}
        parts = [payload.get("title") or "", *(f"{k}: {v}" for k, v in data.items())]
        if payload.get("system_message"):
            parts.append(str(payload["system_message"]))
        return " · ".join(str(part) for part in parts if part)
    return ""


def deliveries(lead: Lead) -> list[tuple[DeliveryAttempt, OutboxMessage]]:
    """The lead's latest delivery attempts, each with its message (which Redeliver queues)."""
    return [
        (attempt, message)
        for attempt, message in db.session.execute(
            db.select(DeliveryAttempt, OutboxMessage)
            .join(OutboxMessage, OutboxMessage.id == DeliveryAttempt.message_id)
            .filter(
                DeliveryAttempt.lead_id == lead.id,
                DeliveryAttempt.workspace_id == lead.workspace_id,
            )
            .order_by(DeliveryAttempt.attempted_at.desc(), DeliveryAttempt.id.desc())
            .limit(DELIVERIES_LIMIT)
        )
    ]


def user_names(ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    users = db.session.execute(db.select(User.id, User.name, User.email).filter(User.id.in_(ids)))
    return {user.id: user.name or user.email for user in users}


def page_context(lead: Lead) -> dict[str, Any]:
    """Everything the lead page renders."""
    views = journeys(lead)
    events = timeline(lead)
    actors = {
        (step.result or {}).get("actor_id")
        for view in views
        for step in view.journey.steps
        if (step.result or {}).get("actor_id")
    }
    return {
        "lead": lead,
        "origin": lead_origin(lead),
        "referrer_lead": referrer_lead(lead),
        "journeys": views,
        "unconfirmed": unconfirmed(lead, views),
        "events": events,
        "event_labels": EVENT_LABELS,
        "event_summary": event_summary,
        "deliveries": deliveries(lead),
        "users": user_names(actors),
        "evidence": journey_evidence(lead),
        "stakeholder_links": latest_links(view.journey.id for view in views),
    }


def lead_origin(lead: Lead) -> Origin | None:
    return db.session.get(Origin, lead.origin_id) if lead.origin_id else None


def referrer_lead(lead: Lead) -> Lead | None:
    """The lead who referred this one (their share link), in the same workspace."""
    if not lead.referred_by:
        return None
    referrer = db.session.get(Lead, lead.referred_by)
    return referrer if referrer is not None and referrer.workspace_id == lead.workspace_id else None
