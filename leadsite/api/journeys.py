"""`GET /api/v1/journeys/<id>`: a journey with its steps and data."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.lookup import scoped_or_404
from leadsite.api.openapi import operation
from leadsite.api.schemas import JourneyResponse
from leadsite.models import Journey, Scope
from leadsite.representations import journey_dict


@bp.get("/journeys/<journey_id>")
@operation(
    summary="Read a journey with its steps and data",
    tag="journeys",
    responses={200: ("The journey", JourneyResponse)},
    errors=(401, 404, 429),
    scope=Scope.LEADS_READ,
)
def get_journey(journey_id: str) -> Response:
    """One journey of the workspace."""
    return jsonify(success=True, data=journey_dict(scoped_or_404(Journey, journey_id, "journey")))
