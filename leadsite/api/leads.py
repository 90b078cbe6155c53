"""`POST /api/v1/leads?ref=REF` registers a lead; `GET /api/v1/leads` lists them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, jsonify, request
from pydantic import ValidationError
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.body import FORM_TYPES, InvalidJSON, read_body, sort_keys
from leadsite.api.errors import (
    handle_invalid_json,
    handle_pydantic_error,
    handle_registration_error,
    validation_response,
)
from leadsite.api.idempotency import HEADER, remember, replay, request_fingerprint
from leadsite.api.ingest import note
from leadsite.api.ingest_record import created_status, log_in_registration
from leadsite.api.lead_input import lead_input_from_body
from leadsite.api.openapi import operation, query_param
from leadsite.api.schemas import LeadListResponse, RegistrationBody, RegistrationResponse
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.lead_search import InvalidCursor, LeadFilters, decode_cursor, search_leads
from leadsite.models import Funnel, Origin, OriginKind, Workspace
from leadsite.registration import FieldError, RegistrationError, register
from leadsite.representations import journey_summary, lead_dict

MAX_BODY_BYTES = 64 * 1024
MAX_PAGE = 200

# Built once: every registration runs it. The funnel and workspace come in the same query, and
# `register()` finds them in the session.
ORIGIN_QUERY = (
    db.select(Origin, Funnel, Workspace)
    .join(Origin.funnel)
    .join(Workspace, Workspace.id == Origin.workspace_id)
    .where(
        Origin.ref == db.bindparam("ref"),
        Origin.workspace_id == db.bindparam("workspace_id"),
        Origin.kind == OriginKind.API,
    )
)


@bp.post("/leads")
@operation(
    summary="Register a lead through an API origin",
    tag="leads",
    body=RegistrationBody,
    form_body=True,
    query=[query_param("ref", "The origin's reference code", required=True)],
    responses={
        201: ("A new lead was created", RegistrationResponse),
        200: ("An existing lead was updated", RegistrationResponse),
    },
    errors=(400, 401, 404, 409, 413, 415, 422, 423, 429),
)
def create_lead() -> Response:
    """Register a lead (JSON or form body) through the API origin named by `ref`."""
    request.max_content_length = MAX_BODY_BYTES
    ref = request.args.get("ref", "").strip()
    if not ref:
        return validation_response(
            [FieldError("ref", "The ref query parameter must name an API origin", None)]
        )
    row = db.session.execute(ORIGIN_QUERY, {"ref": ref, "workspace_id": g.workspace_id}).first()
    origin = row[0] if row is not None else None
    if origin is None:
        return api_error(404, "No API origin with this ref in your workspace", "NOT_FOUND")
    note(origin_id=origin.id, workspace_id=origin.workspace_id)
    key = request.headers.get(HEADER, "").strip()
    if len(key) > 255 or "\x00" in key:
        return validation_response([FieldError(HEADER, "At most 255 characters, and no NUL", None)])
    fingerprint = request_fingerprint(request) if key else ""
    if key and (replayed := replay(g.api_key_id, key, fingerprint)) is not None:
        note(code="IDEMPOTENT_REPLAY")
        return replayed
    response = _register(origin)
    if key:
        remember(g.api_key_id, key, fingerprint, response)
    return response


def _register(origin: Origin) -> Response:
    try:
        fields = sort_keys(read_body(request), from_form=request.mimetype in FORM_TYPES)
        lead_input, context = lead_input_from_body(RegistrationBody.model_validate(fields), request)
        context.on_written = log_in_registration(created_status)
        registration = register(origin, lead_input, context)
    except InvalidJSON as error:
        return handle_invalid_json(error)
    except ValidationError as error:
        return handle_pydantic_error(error)
    except RegistrationError as error:
        return handle_registration_error(error)
    note(lead_id=registration.lead.id, created=registration.created)
    body = {
        "success": True,
        "created": registration.created,
        "data": {**lead_dict(registration.lead), "journey": journey_summary(registration.journey)},
    }
    response = jsonify(body)
    response.status_code = created_status(registration.created)
    return response


def _datetime_arg(name: str, errors: list[FieldError]) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        errors.append(FieldError(name, "Must be an ISO 8601 date or date-time", raw))
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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
        query_param("origin", "Leads who first registered through this origin (id)"),
        query_param("status", "Leads with this status"),
        query_param("tag", "Leads with this tag"),
        query_param("q", "First name, last name, email or phone starting with this"),
        query_param("created_after", "ISO 8601 date-time", format="date-time"),
        query_param("created_before", "ISO 8601 date-time", format="date-time"),
    ],
    responses={200: ("A page of leads", LeadListResponse)},
    errors=(401, 422, 429),
)
def list_leads() -> Response:
    """Leads of the workspace with cursor pagination and filters (erased leads are left out)."""
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
    return jsonify(
        success=True,
        data=[lead_dict(lead) for lead, _ in page.rows],
        has_more=page.next_cursor is not None,
        next_cursor=page.next_cursor,
    )
