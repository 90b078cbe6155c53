"""`GET /api/v1/funnels/<id>/analytics`: the funnel's report, the numbers of its back-office
analytics page."""

from __future__ import annotations

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from leadsite.analytics.query import DEFAULT_DAYS, MAX_DAYS, parse_query
from leadsite.analytics.report import build_report
from leadsite.api import bp
from leadsite.api.analytics_schemas import FunnelReportResponse
from leadsite.api.errors import validation_response
from leadsite.api.lookup import scoped_or_404
from leadsite.api.openapi import operation, query_param
from leadsite.models import Funnel, Scope, utcnow

# A day, or empty for the default.
DAY = {
    "type": "string",
    "anyOf": [{"format": "date"}, {"pattern": r"^\s*$"}],
    "pattern": r"^\s*(?:\d{4}-\d{2}-\d{2})?\s*$",
}


@bp.get("/funnels/<funnel_id>/analytics")
@operation(
    summary="Read a funnel's analytics: form funnel, journey funnel, attribution",
    tag="funnels",
    query=[
        query_param(
            "from",
            f"First day (UTC, YYYY-MM-DD), inclusive; default {DEFAULT_DAYS - 1} days before `to`",
            **DAY,
        ),
        query_param(
            "to",
            f"Last day (UTC), inclusive; default today. At most {MAX_DAYS} days in all",
            **DAY,
        ),
        query_param("origin", "Only this origin of the funnel (id)"),
    ],
    responses={200: ("The report", FunnelReportResponse)},
    errors=(401, 404, 422, 429),
    scope=Scope.LEADS_READ,
)
def get_funnel_analytics(funnel_id: str) -> Response:
    """The same numbers as `/p/funnels/edit/<id>/analytics` for the range and origin asked."""
    funnel = scoped_or_404(Funnel, funnel_id, "funnel")
    now = utcnow()
    query, errors = parse_query(g.workspace_id, funnel.id, request.args, now.date())
    if errors:
        return validation_response(errors)
    return jsonify(success=True, data=build_report(query, now).as_dict())
