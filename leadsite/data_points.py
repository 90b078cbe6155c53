"""Service functions for data points: find, create, change, delete. They flush, never commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from leadsite.extensions import db
from leadsite.models import DataPoint, DataPointType, JourneyData


class DataPointInUse(Exception):
    """A data point that journeys hold values of cannot be deleted."""

    def __init__(self, point: DataPoint, journeys: int) -> None:
        super().__init__(f"data point {point.name} is used by {journeys} journeys")
        self.point = point
        self.journeys = journeys


def workspace_data_points(workspace_id: str) -> list[DataPoint]:
    """The workspace's data points, by name."""
    return list(
        db.session.scalars(
            select(DataPoint).filter_by(workspace_id=workspace_id).order_by(DataPoint.name)
        )
    )


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
    """Delete a data point no journey uses; `DataPointInUse` otherwise."""
    journeys = journeys_using(point)
    if journeys:
        raise DataPointInUse(point, journeys)
    db.session.delete(point)
    db.session.flush()
