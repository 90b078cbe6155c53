"""`/api/v1/data-points`: create, list, read, change (archive) and delete data points."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from leadsite import data_points
from leadsite.api import bp
from leadsite.api.body import read_body
from leadsite.api.lookup import scoped_or_404
from leadsite.api.openapi import operation, query_param
from leadsite.api.schemas import (
    DataPointIn,
    DataPointListResponse,
    DataPointPatch,
    DataPointResponse,
)
from leadsite.data_points import DataPointInUse, name_taken
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import DataPoint, DataPointType, Scope
from leadsite.registration import FieldError
from leadsite.representations import iso

ERRORS = (400, 401, 404, 409, 413, 415, 422, 429)


def data_point_dict(point: DataPoint) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "label": point.label,
        "type": point.type,
        "choices": list(point.choices or []),
        "help_text": point.help_text,
        "archived": point.archived_at is not None,
        "archived_at": iso(point.archived_at),
        "created_at": iso(point.created_at),
    }


def _choices_error(point_type: str, choices: list[str]) -> Response | None:
    if point_type == DataPointType.CHOICE and not choices:
        message = "A choice data point needs at least one choice"
        error = FieldError("choices", message, choices).as_dict()
        return api_error(422, "Validation failed", "VALIDATION_ERROR", error, [error])
    return None


def _duplicate_name(name: str) -> Response:
    message = f"A data point named '{name}' already exists"
    return api_error(
        409, message, "DUPLICATE_NAME", {"field": "name", "value": name, "message": message}
    )


@bp.get("/data-points")
@operation(
    summary="List data points",
    tag="data points",
    responses={200: ("Data points", DataPointListResponse)},
    errors=(401, 422, 429),
    scope=Scope.LEADS_READ,
    query=[
        query_param(
            "archived",
            "`true`: only archived data points; `false`: only the others; absent: all.",
            enum=["true", "false"],
        )
    ],
)
def list_data_points() -> Response:
    """Every data point of the workspace, by name; `?archived=` filters on being archived."""
    archived = request.args.get("archived")
    if archived not in (None, "true", "false"):
        message = "archived must be true or false"
        return api_error(
            422,
            "Validation failed",
            "VALIDATION_ERROR",
            errors=[{"field": "archived", "value": archived, "message": message}],
        )
    points = data_points.workspace_data_points(g.workspace_id)
    if archived is not None:
        points = [p for p in points if (p.archived_at is not None) == (archived == "true")]
    return jsonify(success=True, data=[data_point_dict(p) for p in points])


@bp.post("/data-points")
@operation(
    summary="Create a data point",
    tag="data points",
    body=DataPointIn,
    responses={201: ("Created", DataPointResponse)},
    errors=ERRORS,
)
def create_data_point() -> Response:
    """Create a data point; its name must be unique in the workspace."""
    data = DataPointIn.model_validate(read_body(request))
    if (refused := _choices_error(data.type, data.choices)) is not None:
        return refused
    # Registration matches JourneyData names ignoring case, so uniqueness ignores it too (as in
    # the back-office); the unique constraint still catches a concurrent create.
    if name_taken(g.workspace_id, data.name):
        return _duplicate_name(data.name)
    try:
        point = data_points.create_data_point(
            g.workspace_id,
            name=data.name,
            label=data.label or data.name,
            type=data.type,
            choices=data.choices,
            help_text=data.help_text,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _duplicate_name(data.name)
    response = jsonify(success=True, data=data_point_dict(point))
    response.status_code = 201
    return response


@bp.get("/data-points/<point_id>")
@operation(
    summary="Read a data point",
    tag="data points",
    responses={200: ("The data point", DataPointResponse)},
    errors=(401, 404, 429),
    scope=Scope.LEADS_READ,
)
def get_data_point(point_id: str) -> Response:
    """One data point."""
    point = scoped_or_404(DataPoint, point_id, "data point")
    return jsonify(success=True, data=data_point_dict(point))


@bp.patch("/data-points/<point_id>")
@operation(
    summary="Change a data point's label, choices or help text, or archive it",
    tag="data points",
    body=DataPointPatch,
    responses={200: ("Changed", DataPointResponse)},
    errors=ERRORS,
)
def update_data_point(point_id: str) -> Response:
    """Change label, choices or help text (name and type are fixed once values exist);
    `archived: true` archives it (kept with its values, offered in no new form), `false`
    brings it back."""
    point = scoped_or_404(DataPoint, point_id, "data point")
    changes = DataPointPatch.model_validate(read_body(request)).model_dump(exclude_unset=True)
    if "choices" in changes:
        changes["choices"] = changes["choices"] or []
        if (refused := _choices_error(point.type, changes["choices"])) is not None:
            return refused
    if changes.get("label") is None:
        changes.pop("label", None)
    archived = changes.pop("archived", None)
    if archived is not None:
        data_points.set_archived(point, archived)
    for name, value in changes.items():
        setattr(point, name, value)
    db.session.commit()
    return jsonify(success=True, data=data_point_dict(point))


@bp.delete("/data-points/<point_id>")
@operation(
    summary="Delete a data point nothing uses",
    tag="data points",
    responses={200: ("Deleted", DataPointResponse)},
    errors=(401, 404, 409, 429),
)
def delete_data_point(point_id: str) -> Response:
    """Delete the data point; refused (409) while journeys hold values for it or forms,
    conditions, activities or templates use it: `details.uses` lists them (archive it instead).
    """
    point = scoped_or_404(DataPoint, point_id, "data point")
    data = data_point_dict(point)
    try:
        data_points.delete_data_point(point)
    except DataPointInUse as error:
        message = str(error)
        return api_error(
            409,
            message,
            "DATA_POINT_IN_USE",
            {
                "field": "id",
                "value": point.id,
                "message": message,
                "journeys": error.journeys,
                "uses": [use.as_dict() for use in error.uses],
            },
        )
    db.session.commit()
    return jsonify(success=True, data=data)
