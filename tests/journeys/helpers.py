"""Helpers for journey tests: start a journey the way registration will, read its timeline."""

from __future__ import annotations

from typing import Any

from leadsite.extensions import db
from leadsite.journeys import start_journey
from leadsite.journeys.engine import enter_first_stage
from leadsite.models import (
    DataPoint,
    Event,
    Funnel,
    Journey,
    JourneyData,
    JourneyStep,
    Lead,
    OutboxMessage,
)


def begin(
    lead: Lead, funnel: Funnel, data: dict[DataPoint, Any] | None = None, **options: Any
) -> Journey:
    """Generate the journey and store its data as registration does, enter its first stage
    (`options`: `now`, `events`), and commit."""
    journey = start_journey(lead, funnel, None)
    db.session.add(journey)
    for point, value in (data or {}).items():
        db.session.add(JourneyData(journey_id=journey.id, data_point_id=point.id, value=value))
    enter_first_stage(journey, **options)
    db.session.commit()
    return journey


def timeline(journey: Journey) -> list[Event]:
    """The journey's events, oldest first."""
    return list(
        db.session.scalars(
            db.select(Event).filter_by(journey_id=journey.id).order_by(Event.created_at, Event.id)
        )
    )


def event_types(journey: Journey) -> list[str]:
    return [event.type for event in timeline(journey)]


def steps(journey: Journey) -> dict[str, JourneyStep]:
    """The journey's steps by title."""
    found = db.session.scalars(db.select(JourneyStep).filter_by(journey_id=journey.id))
    return {step.title: step for step in found}


def outbox(channel: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            db.select(OutboxMessage).filter_by(channel=channel).order_by(OutboxMessage.target)
        )
    )
