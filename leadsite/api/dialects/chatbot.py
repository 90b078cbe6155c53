"""The chatbot platform's lead API (seed 002): `POST /api/v1/chatbots/<chatbotId>/leads`, where
the chatbot id is an API origin's ref, and the same body on `POST /api/v1/leads` without `ref`
(the workspace's default API origin), as the document's JavaScript and Python examples post it.

The body is read like every registration body (keys matched ignoring case, `name` split, the
`metadata` object kept as custom fields, its `utm_*` keys as the lead's UTM); the answer is the
document's `{"success": true, "data": {...}}`, its errors the document's bodies.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from flask import g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, RootModel
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.body import canonical, read_body
from leadsite.api.dialects.doors import api_origin, register_request, warnings_list
from leadsite.api.idempotency import Registered, Replay, answer_once
from leadsite.api.ingest import note
from leadsite.api.openapi import operation
from leadsite.api.schemas import RegistrationResponse, StringOrNumber
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import Lead, Origin, Scope
from leadsite.registration import Duplicate

DIALECT = "chatbot"
MAX_BODY_BYTES = 64 * 1024


class ChatbotLeadBody(BaseModel):
    """The chatbot platform's lead. Any other key of a leadsite registration is accepted too
    (`JourneyData`, `tags`, `utm_*`, ...)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "name": "John Doe",
                    "email": "john.doe@example.com",
                    "phone": "+1-555-123-4567",
                    "source": "website",
                    "status": "new",
                    "metadata": {"utm_source": "google", "company": "Tech Corp"},
                }
            ]
        },
    )

    name: str | None = Field(None, description="Full name; split into first and last name.")
    email: str | None = Field(None, json_schema_extra={"format": "email"})
    phone: StringOrNumber = None
    source: str | None = None
    status: str | None = None
    metadata: dict[str, Any] | None = Field(
        None, description="Any JSON object: kept as custom fields (`utm_*` keys as UTM)."
    )


class ChatbotWarning(BaseModel):
    code: str
    field: str
    value: str
    message: str
    existingLeadId: str | None


class ChatbotLead(BaseModel):
    id: str
    name: str | None
    email: str | None
    phone: str | None = Field(description="In E.164.")
    source: str | None
    status: str
    metadata: dict[str, Any] = Field(description="As sent; else the lead's custom fields.")
    createdAt: str = Field(description="ISO 8601 with milliseconds, UTC (`Z`).")
    updatedAt: str
    workspaceId: str


class ChatbotLeadResponse(BaseModel):
    success: Literal[True]
    data: ChatbotLead
    warnings: list[ChatbotWarning] | None = Field(
        None, description="Present when an identifier was given that another lead holds."
    )


class LeadsAnswer(RootModel[RegistrationResponse | ChatbotLeadResponse]):
    """`POST /api/v1/leads`: leadsite's answer with `ref`, the chatbot platform's without."""


def iso_millis(value: datetime | None) -> str | None:
    """`2024-01-15T10:30:00.000Z`, as the chatbot platform writes times."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def chatbot_lead(lead: Lead, sent: dict[str, Any]) -> dict[str, Any]:
    """The lead in the document's names; `name` and `metadata` as sent when they were."""
    keys = {canonical(str(key)): value for key, value in sent.items()}
    name = keys.get("name")
    metadata = keys.get("metadata")
    return {
        "id": lead.id,
        "name": name.strip() if isinstance(name, str) and name.strip() else lead.name or None,
        "email": lead.email,
        "phone": lead.phone,
        "source": lead.source,
        "status": lead.status,
        "metadata": metadata if isinstance(metadata, dict) else dict(lead.custom_fields or {}),
        "createdAt": iso_millis(lead.created_at),
        "updatedAt": iso_millis(lead.updated_at),
        "workspaceId": lead.workspace_id,
    }


def duplicate_response(error: Duplicate) -> Response:
    """The document's 409: `DUPLICATE_EMAIL` with `details.email/existingLeadId/message`."""
    noun = error.identifier.replace("_", " ")
    details = {
        error.identifier: error.value,
        "existingLeadId": error.existing_lead_id,
        "message": f"A lead with this {noun} already exists in your workspace",
    }
    return api_error(409, f"{noun.capitalize()} already exists", error.code, details, [details])


@bp.post("/chatbots/<chatbot_id>/leads")
@operation(
    summary="Register a lead through a chatbot (the chatbot platform's lead API)",
    description="`chatbotId` is an API origin's ref. Answers `201` with the new lead, `200` when "
    "an existing one was updated; `409 DUPLICATE_EMAIL` when the origin's funnel rejects "
    "duplicates.",
    tag="dialects",
    body=ChatbotLeadBody,
    form_body=True,
    responses={
        201: ("A new lead was created", ChatbotLeadResponse),
        200: ("An existing lead was updated", ChatbotLeadResponse),
    },
    errors=(400, 401, 404, 409, 413, 415, 422, 423, 429),
    scope=Scope.LEADS_WRITE,
    publishable=True,  # the document's JavaScript example runs in a web page
)
def create_chatbot_lead(chatbot_id: str) -> Response:
    """Register a lead through the API origin whose ref is the chatbot id."""
    request.max_content_length = MAX_BODY_BYTES
    note(dialect=DIALECT, workspace_id=g.workspace_id)
    origin = api_origin(chatbot_id, g.workspace_id)
    if origin is None:
        note(code="NOT_FOUND")
        return api_error(404, "No chatbot (API origin ref) with this id in your workspace")
    return answer_once(lambda: register_chatbot_lead(origin), chatbot_replay(origin))


def register_chatbot_lead(origin: Origin) -> Response:
    """Register the request's body through `origin` and answer in the chatbot's shape."""
    note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)
    registration, sent = register_request(origin, on_duplicate=duplicate_response)
    if isinstance(registration, Response):
        return registration
    body: dict[str, Any] = {"success": True, "data": chatbot_lead(registration.lead, sent)}
    if registration.warnings:
        body["warnings"] = warnings_list(registration)
    response = jsonify(body)
    response.status_code = 201 if registration.created else 200
    return response


def chatbot_replay(origin: Origin) -> Replay:
    """The chatbot's answer rebuilt from the lead a first request registered, should that
    request have lost its answer (`api.idempotency`); `warnings` are not kept."""

    def replay(registered: Registered) -> Response:
        (_, lead_id, created), *_ = registered
        lead = db.session.get(Lead, lead_id)
        if lead is None:  # erased since
            return jsonify(success=True, erased=True, data={"id": lead_id})
        response = jsonify(success=True, data=chatbot_lead(lead, read_body(request)))
        response.status_code = 201 if created else 200
        return response

    return replay
