"""`POST /api/v1/leads?ref=REF` registers a lead; `GET /api/v1/leads` lists them."""

from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.api import bp
from leadsite.api.dialects.chatbot import LeadsAnswer, chatbot_replay, register_chatbot_lead
from leadsite.api.dialects.doors import (
    api_origin,
    default_origin,
    no_default_origin_message,
    register_request,
    warnings_list,
)
from leadsite.api.errors import (
    validation_response,
)
from leadsite.api.idempotency import answer_once, lead_answer
from leadsite.api.ingest import note
from leadsite.api.ingest_record import created_status
from leadsite.api.openapi import operation, query_param
from leadsite.api.schemas import LeadListResponse, RegistrationBody
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.journeys.conversions import converted_funnels
from leadsite.leads.search import (
    InvalidCursor,
    LeadFilters,
    decode_cursor,
    search_leads,
    yes_or_no,
)
from leadsite.models import Origin, Scope, Workspace
from leadsite.registration import FieldError
from leadsite.representations import journey_summary, lead_dict

MAX_BODY_BYTES = 64 * 1024
MAX_PAGE = 200


def requested_origin(ref: str) -> Origin | Response:
    """The API origin named by `ref` (or the workspace's default one), noted for the ingestion
    log; or the 404 to answer."""
    note(workspace_id=g.workspace_id)
    origin = api_origin(ref, g.workspace_id) if ref else default_origin(g.workspace_id)
    if origin is None:
        note(code="NOT_FOUND")
        if not ref:
            return api_error(404, no_default_origin_message(), "NOT_FOUND")
        return api_error(404, "No API origin with this ref in your workspace", "NOT_FOUND")
    note(origin_id=origin.id)
    return origin


@bp.post("/leads")
@operation(
    summary="Register a lead through an API origin",
    tag="leads",
    body=RegistrationBody,
    form_body=True,
    description="With `ref`, through that API origin, answered as below. Without it, through "
    "the workspace's default API origin (Settings → Workspace), answered as the chatbot "
    "platform's lead API answers (`ChatbotLeadResponse`): its documented clients post here.",
    query=[query_param("ref", "The origin's reference code (default: the workspace's)")],
    responses={
        201: ("A new lead was created", LeadsAnswer),
        200: ("An existing lead was updated", LeadsAnswer),
    },
    errors=(400, 401, 404, 409, 413, 415, 422, 423, 429),
    scope=Scope.LEADS_WRITE,
    publishable=True,
)
def create_lead() -> Response:
    """Register a lead (JSON or form body) through the API origin named by `ref`, or without
    `ref` through the workspace's default API origin, in the chatbot platform's dialect."""
    request.max_content_length = MAX_BODY_BYTES
    ref = request.args.get("ref", "").strip()
    origin = requested_origin(ref)
    if isinstance(origin, Response):
        return origin
    if not ref:
        return answer_once(lambda: register_chatbot_lead(origin), chatbot_replay(origin))
    return answer_once(lambda: _register(origin), lambda done: lead_answer(done, origin.funnel_id))


def _register(origin: Origin) -> Response:
    registration, _ = register_request(origin)
    if isinstance(registration, Response):
        return registration
    body = {
        "success": True,
        "created": registration.created,
        "data": {**lead_dict(registration.lead), "journey": journey_summary(registration.journey)},
        "warnings": warnings_list(registration),
    }
    response = jsonify(body)
    response.status_code = created_status(registration.created)
    return response


def _datetime_arg(name: str, errors: list[FieldError]) -> datetime | None:
    raw = request.args.get(name)
    try:
        return values.timestamp(raw)
    except values.Invalid:
        errors.append(FieldError(name, "Must be an ISO 8601 date or date-time", raw))
        return None


# What `values.timestamp` reads; empty: no bound.
WHEN = {
    "type": "string",
    "anyOf": [{"format": "date"}, {"format": "date-time"}, {"pattern": r"^\s*$"}],
    "pattern": r"^\s*(?:\d{4}-\d{2}-\d{2}.*)?$",
}


@bp.get("/leads")
@operation(
    summary="List leads, newest first",
    tag="leads",
    query=[
        query_param(
            "limit", "Page size (1-200, default 50)", type="integer", minimum=1, maximum=MAX_PAGE
        ),
        query_param("cursor", "The `next_cursor` of the previous page"),
        query_param("funnel", "Leads with a journey in this funnel (id)"),
        query_param("funnel_id", "Another name of `funnel`"),
        query_param(
            "converted",
            "`true`: leads who completed a journey (in `funnel`, when given), so count as "
            "converted there; `false`: the others. Cancelled journeys are not conversions",
            type="boolean",
        ),
        query_param("origin", "Leads who first registered through this origin (id)"),
        query_param("status", "Leads with this status"),
        query_param("tag", "Leads with this tag"),
        query_param("q", "First name, last name, email or phone starting with this"),
        query_param("created_after", "ISO 8601 date or date-time (UTC without an offset)", **WHEN),
        query_param("created_before", "ISO 8601 date or date-time (UTC without an offset)", **WHEN),
        query_param(
            "held",
            "`true`: only held leads (public form submissions that looked like a bot's, "
            "waiting for staff to accept or delete them); by default they are left out",
            type="boolean",
        ),
    ],
    responses={200: ("A page of leads", LeadListResponse)},
    errors=(401, 422, 429),
    scope=Scope.LEADS_READ,
)
def list_leads() -> Response:
    """Leads of the workspace with cursor pagination and filters (erased leads are left out, and
    held leads unless `held=true` asks for them alone)."""
    errors: list[FieldError] = []
    try:
        limit = int(request.args.get("limit", 50))
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError
    except ValueError:
        errors.append(
            FieldError(
                "limit", f"Must be a whole number from 1 to {MAX_PAGE}", request.args.get("limit")
            )
        )
        limit = 50
    after = _datetime_arg("created_after", errors)
    before = _datetime_arg("created_before", errors)
    held = request.args.get("held")
    if held is not None and held.strip().lower() not in ("true", "false", "1", "0"):
        errors.append(FieldError("held", "Must be true or false", held))
    converted = request.args.get("converted")
    if converted is not None and yes_or_no(converted) is None:
        errors.append(FieldError("converted", "Must be true or false", converted))
    cursor = request.args.get("cursor") or None
    if cursor:
        try:
            decode_cursor(cursor)
        except InvalidCursor:
            errors.append(FieldError("cursor", "Not a cursor from this API", cursor))
    if errors:
        return validation_response(errors)
    workspace = db.session.get(Workspace, g.workspace_id)
    page = search_leads(
        g.workspace_id,
        LeadFilters.from_args(request.args),
        after=cursor,
        limit=limit,
        country=workspace.default_country,
        created_after=after,
        created_before=before,
    )
    converted_in = converted_funnels([lead.id for lead, _ in page.rows])
    return jsonify(
        success=True,
        data=[
            {**lead_dict(lead), "converted_funnels": converted_in.get(lead.id, [])}
            for lead, _ in page.rows
        ],
        has_more=page.next_cursor is not None,
        next_cursor=page.next_cursor,
    )
