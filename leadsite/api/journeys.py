"""`GET /api/v1/journeys` (filtered, cursor pages) and `GET /api/v1/journeys/<id>`."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from flask import g, jsonify, request
from pydantic import BaseModel
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.errors import validation_response
from leadsite.api.lookup import scoped_or_404
from leadsite.api.openapi import operation, query_param
from leadsite.api.schemas import JourneyResponse, JourneySummaryOut
from leadsite.extensions import db
from leadsite.models import Journey, JourneyStatus, Scope
from leadsite.registration import FieldError
from leadsite.representations import iso, journey_dict, journey_summary

MAX_PAGE = 200


class JourneyListItem(JourneySummaryOut):
    lead_id: str
    completed_at: str | None


class JourneyListResponse(BaseModel):
    success: Literal[True]
    data: list[JourneyListItem]
    has_more: bool
    next_cursor: str | None


def _encode_cursor(journey_id: str) -> str:
    return base64.urlsafe_b64encode(f"journey|{journey_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str | None:
    """The journey id a cursor names (ids sort by creation time), or None if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    kind, _, journey_id = raw.partition("|")
    ok = kind == "journey" and journey_id.startswith("jrn_") and len(journey_id) <= 40
    return journey_id if ok else None


@bp.get("/journeys")
@operation(
    summary="List journeys, newest first",
    tag="journeys",
    query=[
        query_param(
            "limit", "Page size (1-200, default 50)", type="integer", minimum=1, maximum=MAX_PAGE
        ),
        query_param("cursor", "The `next_cursor` of the previous page"),
        query_param("lead", "Journeys of this lead (id)"),
        query_param("funnel", "Journeys in this funnel (id)"),
        query_param(
            "status",
            "awaiting, active, completed or cancelled (empty: all)",
            enum=[*JourneyStatus, ""],
        ),
    ],
    responses={200: ("A page of journeys", JourneyListResponse)},
    scope=Scope.LEADS_READ,
    errors=(401, 422, 429),
)
def list_journeys() -> Response:
    """Journeys of the workspace with cursor pagination, by lead, funnel and status."""
    errors: list[FieldError] = []
    raw_limit = request.args.get("limit", "50")
    try:
        limit = int(raw_limit) if len(raw_limit) <= 4 else 0
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        message = f"Must be a whole number from 1 to {MAX_PAGE}"
        errors.append(FieldError("limit", message, raw_limit))
    status = request.args.get("status")
    if status and status not in list(JourneyStatus):
        message = "Must be awaiting, active, completed or cancelled"
        errors.append(FieldError("status", message, status))
    cursor = request.args.get("cursor") or None
    after = _decode_cursor(cursor) if cursor else None
    if cursor and after is None:
        errors.append(FieldError("cursor", "Not a cursor from this API", cursor))
    if errors:
        return validation_response(errors)
    query = db.select(Journey).filter_by(workspace_id=g.workspace_id)
    for arg, column in (("lead", Journey.lead_id), ("funnel", Journey.funnel_id)):
        if request.args.get(arg):
            query = query.where(column == request.args[arg])
    if status:
        query = query.where(Journey.status == status)
    if after:
        query = query.where(Journey.id < after)
    rows = list(db.session.scalars(query.order_by(Journey.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify(
        success=True,
        data=[
            {**journey_summary(j), "lead_id": j.lead_id, "completed_at": iso(j.completed_at)}
            for j in rows
        ],
        has_more=more,
        next_cursor=_encode_cursor(rows[-1].id) if more else None,
    )


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
