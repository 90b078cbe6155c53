"""`GET /api/v1/journeys/<id>`: a journey with its steps and data."""

from __future__ import annotations

from flask import g, jsonify
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.openapi import operation
from leadsite.api.schemas import JourneyResponse
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import Journey
from leadsite.representations import journey_dict


@bp.get("/journeys/<journey_id>")
@operation(
    summary="Read a journey with its steps and data",
    tag="journeys",
    responses={200: ("The journey", JourneyResponse)},
    errors=(401, 404, 429),
)
def get_journey(journey_id: str) -> Response:
    """One journey of the workspace."""
    journey = db.session.scalar(
        db.select(Journey).filter_by(id=journey_id, workspace_id=g.workspace_id)
    )
    if journey is None:
        return api_error(404, "No such journey", "NOT_FOUND")
    return jsonify(success=True, data=journey_dict(journey))
