"""vcita's create-lead call (seed 004): `POST /platform/v1/leadgen`, outside `/api/v1`, on a
blueprint of its own, served by the workspace's default API origin.

`Authorization: Token token="KEY"` (or `Bearer KEY`) is checked as every API key is
(`leadsite.api.auth.check_key`); the business (`X-On-Behalf-Of` or `business_id`) is the key's
workspace, by id or slug. `identifier_type` decides the match, `first_name` is required for a new
lead, and the request (`request_title` and its data) becomes an entry on the lead's timeline,
whose id is the `conversation_uid`. All of that is `register()`'s work; this module maps names.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from leadsite.accounts import hash_api_key
from leadsite.api.auth import check_key
from leadsite.api.body import InvalidJSON, read_body
from leadsite.api.dialects.doors import default_origin, no_default_origin_message
from leadsite.api.errors import pydantic_errors
from leadsite.api.idempotency import Registered, answer_once, record_written
from leadsite.api.ingest import note
from leadsite.api.openapi import operation
from leadsite.api.schemas import HTTP_URL_OR_EMPTY, StringOrNumber
from leadsite.extensions import db, limiter
from leadsite.leads import statuses as lead_statuses
from leadsite.models import Origin, Workspace
from leadsite.registration import (
    NOTIFICATIONS,
    Duplicate,
    FieldError,
    LeadInput,
    LeadRequest,
    RegistrationContext,
    RegistrationError,
    ValidationFailed,
    register,
)

bp = Blueprint("vcita", __name__)
DIALECT = "vcita"
MAX_BODY_BYTES = 64 * 1024
TOKEN = re.compile(r'^\s*Token\s+(?:token\s*=\s*)?"?([^"\s]+)"?\s*$', re.IGNORECASE)
Flag = Any  # "true", "yes", true: the pipeline reads them


_NOTE = "|".join(
    "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)
    for name in NOTIFICATIONS
)
# Comma-separated items, each a known name in any case or empty (skipped), spaces around.
NOTIFICATION_LIST = rf"^\s*(?:{_NOTE})?\s*(?:,\s*(?:{_NOTE})?\s*)*$"


class VcitaLeadBody(BaseModel):
    """vcita's lead; keys not listed become custom fields."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "identifier_type": "email",
                    "email": "jane@example.com",
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "phone": "+1 555 123 4567",
                    "request_title": "Quote request",
                    "message_data": {"Service": "Kitchen"},
                    "request_data": {"budget": "5000"},
                    "notifications": "auto-reply,email",
                    "tags": "kitchen,spring",
                    "opt_in": "true",
                }
            ]
        },
    )

    identifier_type: Literal["email", "unique_id"] = Field(
        description="Which identifier finds the existing lead or makes a new one."
    )
    request_title: str = Field(
        description="The title of the request on the lead's timeline.",
        json_schema_extra={"pattern": r"\S"},
    )
    first_name: str | None = Field(None, description="Required for a new lead.")
    last_name: str | None = None
    email: str | None = None
    unique_id: StringOrNumber = None
    phone: StringOrNumber = None
    address: str | None = None
    business_id: str | None = Field(None, description="The workspace's id or slug.")
    opt_in: Flag = Field(None, description='"true", "yes" or true')
    opt_in_transactional_sms: Flag = None
    message_data: dict[str, Any] | None = None
    request_data: dict[str, Any] | None = Field(
        None, description="Shown in the request, and merged into the lead's custom fields."
    )
    system_message: str | None = None
    source: str | None = None
    source_url: str | None = Field(None, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY})
    status: str | None = None
    tags: str | list[str] | None = Field(None, description="Comma-separated")
    notifications: str | None = Field(
        None,
        description='Comma-separated: "auto-reply" (to the lead), "email", "sms" (staff)',
        json_schema_extra={"pattern": NOTIFICATION_LIST},
    )


class VcitaCreated(BaseModel):
    status: Literal["OK"]
    uid: str = Field(description="The lead's id.")
    conversation_uid: str = Field(description="The id of the request's entry on the timeline.")
    warnings: list[dict[str, Any]] | None = None


class VcitaError(BaseModel):
    status: Literal["Error"]
    error: str
    errors: list[dict[str, Any]]


def vcita_error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> Response:
    """vcita's error body: `{"status": "Error", "error", "errors"}`."""
    response = jsonify(status="Error", error=message, errors=errors or [])
    response.status_code = status
    return response


def _token() -> str | None:
    header = request.headers.get("Authorization", "")
    match = TOKEN.match(header)
    if match:
        return match.group(1)
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


@bp.before_request
def authenticate() -> Response | None:
    """The API key, as vcita's clients send it."""
    token = _token()
    if token is None or not check_key(token):
        response = vcita_error(401, 'Send a valid API key: Authorization: Token token="KEY"')
        response.headers["WWW-Authenticate"] = 'Token realm="leadsite"'
        return response
    return None


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return vcita_error(error.code or 500, error.description or "Error")


def _key_identity() -> str:
    return "api-key:" + hash_api_key(_token() or "")[:16]


def _per_key_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def _per_ip_limit() -> str:
    return current_app.config["API_IP_RATE_LIMIT"]


# The same limits as the API blueprint's, counted apart.
limiter.limit(_per_key_limit, key_func=_key_identity)(bp)
limiter.limit(_per_ip_limit)(bp)


def _business_matches(business: str) -> bool:
    workspace = db.session.get(Workspace, g.workspace_id)
    return business in (workspace.id, workspace.slug)


# vcita's client status when none is set, which means what leadsite's first status means.
VCITA_DEFAULT_STATUS = "lead"


def _status(raw: str | None, extras: dict[str, Any]) -> str | None:
    """vcita's client status as one of the workspace's (by key or name, any case; its default
    "Lead" is the status new leads get). vcita clients never read it back, so one the workspace
    does not have is kept as the custom field `vcita_status` rather than refusing the lead."""
    if raw is None:
        return None
    key = lead_statuses.matching(g.workspace_id, raw)
    if key is None and isinstance(raw, str) and raw.strip().casefold() == VCITA_DEFAULT_STATUS:
        key = lead_statuses.FIRST
    if key is None:
        extras["vcita_status"] = raw
    return key


def _lead_input(body: VcitaLeadBody) -> LeadInput:
    extras = dict(body.model_extra or {})
    status = _status(body.status, extras)
    return LeadInput(
        email=body.email,
        unique_id=body.unique_id,
        phone=body.phone,
        first_name=body.first_name,
        last_name=body.last_name,
        address=body.address,
        status=status,
        source=body.source,
        source_url=body.source_url,
        tags=body.tags,
        custom_fields={**extras, **(body.request_data or {})},
        opt_in=body.opt_in,
        sms_opt_in=body.opt_in_transactional_sms,
        match_by=body.identifier_type,
        required_for_new=("first_name",),
        request=LeadRequest(
            title=body.request_title,
            message_data=body.message_data,
            request_data=body.request_data,
            system_message=body.system_message,
        ),
        notifications=body.notifications,
    )


def _field_errors(errors: list[FieldError]) -> list[dict[str, Any]]:
    return [error.as_dict() for error in errors]


@bp.post("/platform/v1/leadgen")
@operation(
    blueprint="vcita",
    summary="Create or update a lead with a request (vcita's leadgen)",
    description="Served by the workspace's default API origin. The business is "
    "`X-On-Behalf-Of` or `business_id`: the workspace's id or slug. Answers "
    '`201 {"status": "OK", "uid", "conversation_uid"}`.',
    tag="dialects",
    body=VcitaLeadBody,
    responses={201: ("The lead was created or updated", VcitaCreated)},
    errors=(400, 401, 404, 409, 413, 415, 422, 423, 429),
    error_model=VcitaError,
    security=[{"vcitaToken": []}, {"bearerAuth": []}],
)
def create_vcita_lead() -> Response:
    """Register the lead and their request through the workspace's default API origin."""
    request.max_content_length = MAX_BODY_BYTES
    note(dialect=DIALECT, workspace_id=g.workspace_id)
    try:
        sent = read_body(request)
    except InvalidJSON as error:
        # In the log of the origin the call would have registered through, when there is one.
        origin = default_origin(g.workspace_id)
        note(code="INVALID_JSON", origin_id=origin.id if origin else None)
        return vcita_error(400, error.description or "The body is not valid JSON")
    business = request.headers.get("X-On-Behalf-Of") or sent.get("business_id")
    if business is not None and not (isinstance(business, str) and _business_matches(business)):
        note(code="NOT_FOUND")
        return vcita_error(404, "Business not found")
    origin = default_origin(g.workspace_id)
    if origin is None:
        note(code="NOT_FOUND")
        return vcita_error(404, no_default_origin_message())
    note(origin_id=origin.id)
    return answer_once(lambda: _registered(origin, sent), _replayed)


def _registered(origin: Origin, sent: dict[str, Any]) -> Response:
    try:
        body = VcitaLeadBody.model_validate(sent)
        registration = register(
            origin,
            _lead_input(body),
            RegistrationContext(
                ip=request.remote_addr,
                user_agent=request.user_agent.string or None,
                referrer=request.referrer,
                on_written=record_written,
            ),
        )
    except ValidationError as error:
        note(code="VALIDATION_ERROR")
        return vcita_error(422, "Validation failed", _field_errors(pydantic_errors(error)))
    except ValidationFailed as error:
        note(code="VALIDATION_ERROR")
        return vcita_error(422, "Validation failed", _field_errors(error.errors))
    except Duplicate as error:
        note(code=error.code, lead_id=error.existing_lead_id)
        noun = error.identifier.replace("_", " ")
        detail = {"field": error.identifier, "value": error.value, "uid": error.existing_lead_id}
        return vcita_error(409, f"A lead with this {noun} already exists", [detail])
    except RegistrationError as error:
        note(code=error.code)
        return vcita_error(error.status, error.message)
    note(lead_id=registration.lead.id, created=registration.created)  # answered 201 either way
    answer: dict[str, Any] = {
        "status": "OK",
        "uid": registration.lead.id,
        "conversation_uid": registration.request_event_id,
    }
    if registration.warnings:
        answer["warnings"] = [conflict.as_dict() for conflict in registration.warnings]
    response = jsonify(answer)
    response.status_code = 201
    return response


def _replayed(registered: Registered) -> Response:
    """`_registered`'s answer rebuilt from what a first request registered, should that request
    have lost its answer (`api.idempotency`): the conversation is not kept (null)."""
    (_, lead_id, _created), *_ = registered
    response = jsonify(status="OK", uid=lead_id, conversation_uid=None)
    response.status_code = 201
    return response
