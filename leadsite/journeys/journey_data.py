"""Writing data point values on a journey, from whoever fills them (the lead, a stakeholder)."""

from __future__ import annotations

from typing import Any

from leadsite.extensions import db
from leadsite.journeys.waits import recheck
from leadsite.models import DataPoint, Journey, JourneyData


def store_values(journey: Journey, given: list[tuple[DataPoint, Any]]) -> None:
    """Set each data point's value on the journey (the caller has locked it with
    `engine.lock_journey`), flush (conditions read the data when a step moves the journey on),
    and release a wait-until of the stage that was waiting for these values."""
    existing = {
        item.data_point_id: item
        for item in db.session.scalars(db.select(JourneyData).filter_by(journey_id=journey.id))
    }
    for point, value in given:
        if point.id in existing:
            existing[point.id].value = value
        else:
            db.session.add(JourneyData(journey_id=journey.id, data_point_id=point.id, value=value))
    db.session.flush()
    recheck(journey)
