"""Service functions for data points: find, create, change, archive, delete. They flush, never
commit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from leadsite.data_point_usage import Use, data_point_uses
from leadsite.extensions import db
from leadsite.models import DataPoint, DataPointType, JourneyData, utcnow


class DataPointInUse(Exception):
    """A data point that journeys hold values of, or that forms, conditions, activities or
    templates read, cannot be deleted."""

    def __init__(self, point: DataPoint, journeys: int, uses: list[Use]) -> None:
        super().__init__(in_use_message(point, journeys, uses))
        self.point = point
        self.journeys = journeys
        self.uses = uses


def in_use_message(point: DataPoint, journeys: int, uses: list[Use]) -> str:
    """Why a data point cannot be deleted: how many journeys hold values and places use it."""
    reasons = []
    if journeys:
        noun = "journey holds a value" if journeys == 1 else "journeys hold values"
        reasons.append(f"{journeys:,} {noun} of it")
    if uses:
        reasons.append("1 place uses it" if len(uses) == 1 else f"{len(uses):,} places use it")
    return f"“{point.label}” cannot be deleted: {' and '.join(reasons)}."


def workspace_data_points(
    workspace_id: str, archived: bool = True, keep: Collection[str] = ()
) -> list[DataPoint]:
    """The workspace's data points, by name; without the archived ones (but those named in
    `keep`: what an editor already holds) when `archived` is False."""
    statement = select(DataPoint).filter_by(workspace_id=workspace_id).order_by(DataPoint.name)
    if not archived:
        statement = statement.where(
            or_(DataPoint.archived_at.is_(None), DataPoint.name.in_(list(keep)))
        )
    return list(db.session.scalars(statement))


def find_data_point(workspace_id: str, point_id: str) -> DataPoint | None:
    """The data point with this id in this workspace; None for any other id."""
    return db.session.scalar(select(DataPoint).filter_by(id=point_id, workspace_id=workspace_id))


def name_taken(workspace_id: str, name: str, except_id: str | None = None) -> bool:
    """True if another data point of the workspace has this name (registration ignores case)."""
    statement = select(DataPoint.id).where(
        DataPoint.workspace_id == workspace_id, func.lower(DataPoint.name) == name.lower()
    )
    if except_id:
        statement = statement.where(DataPoint.id != except_id)
    return db.session.scalar(statement.limit(1)) is not None


def journeys_using(point: DataPoint) -> int:
    """How many journeys hold a value for this data point."""
    return db.session.scalar(
        select(func.count()).select_from(JourneyData).filter_by(data_point_id=point.id)
    )


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    # Only a choice data point keeps its choices.
    if fields.get("type") != DataPointType.CHOICE:
        fields["choices"] = []
    return fields


def create_data_point(workspace_id: str, **fields: Any) -> DataPoint:
    """Add a data point to the workspace."""
    point = DataPoint(workspace_id=workspace_id, **_clean(fields))
    db.session.add(point)
    db.session.flush()
    return point


def update_data_point(point: DataPoint, **fields: Any) -> DataPoint:
    """Change a data point's name, label, type, choices or help text."""
    for key, value in _clean({"type": point.type, **fields}).items():
        setattr(point, key, value)
    db.session.flush()
    return point


def delete_data_point(point: DataPoint) -> None:
    """Delete a data point nothing uses; `DataPointInUse` otherwise."""
    journeys, uses = journeys_using(point), data_point_uses(point)
    if journeys or uses:
        raise DataPointInUse(point, journeys, uses)
    db.session.delete(point)
    db.session.flush()


def set_archived(point: DataPoint, archived: bool, now: datetime | None = None) -> DataPoint:
    """Archive a data point (kept, with its values, but offered nowhere new) or bring it back."""
    if archived and point.archived_at is None:
        point.archived_at = now or utcnow()
    elif not archived:
        point.archived_at = None
    db.session.flush()
    return point
