"""What every dialect's door shares: finding the API origin a call is for, by its ref or the
workspace's default, and the success envelope's `warnings`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request, url_for
from pydantic import ValidationError
from sqlalchemy import Row
from werkzeug.wrappers import Response

from leadsite.api.auth import api_origin_named, check_origin, prefetched_origin
from leadsite.api.body import FORM_TYPES, InvalidJSON, read_body, sort_keys
from leadsite.api.errors import (
    handle_invalid_json,
    handle_pydantic_error,
    handle_registration_error,
)
from leadsite.api.idempotency import record_written
from leadsite.api.ingest import note
from leadsite.api.ingest_record import note_registration
from leadsite.api.lead_input import lead_input_from_body
from leadsite.api.schemas import RegistrationBody
from leadsite.extensions import db
from leadsite.models import Funnel, Origin, OriginKind, Workspace
from leadsite.registration import Duplicate, Registration, RegistrationError, register

# Built once: every registration runs it. The funnel and workspace come in the same query, and
# `register()` finds them in the session.
ORIGIN_QUERY = (
    db.select(Origin, Funnel, Workspace)
    .join(Origin.funnel)
    .join(Workspace, Workspace.id == Origin.workspace_id)
    .where(api_origin_named(db.bindparam("workspace_id"), db.bindparam("ref")))
)
DEFAULT_ORIGIN_QUERY = (
    db.select(Origin, Funnel, Workspace)
    .join(Origin.funnel)
    .join(Workspace, Workspace.default_origin_id == Origin.id)
    .where(Workspace.id == db.bindparam("workspace_id"), Origin.kind == OriginKind.API)
)


def api_origin(ref: str, workspace_id: str) -> Origin | None:
    """The workspace's API origin with this ref (read with the API key when the door could)."""
    found = prefetched_origin(ref, workspace_id)
    if found is not False:
        return held(found)
    row = db.session.execute(ORIGIN_QUERY, {"ref": ref, "workspace_id": workspace_id}).first()
    return held(row)


def default_origin(workspace_id: str) -> Origin | None:
    """The API origin the workspace chose to serve calls that name none."""
    row = db.session.execute(DEFAULT_ORIGIN_QUERY, {"workspace_id": workspace_id}).first()
    return held(row)


def held(row: Row[tuple[Origin, Funnel, Workspace]] | tuple[Any, ...] | None) -> Origin | None:
    """The origin of an (origin, funnel, workspace) row, its funnel and workspace kept for the
    request: the session's identity map holds objects weakly, and without a reference left
    they are dropped at once, so that `register()`, which finds them there, read each again
    (two more SELECTs a registration)."""
    if row is None:
        return None
    g.api_origin_row = tuple(row)
    return row[0]


def no_default_origin_message() -> str:
    """Why a call naming no origin found none, and where to choose one."""
    return (
        "This workspace has no default API origin. Choose one in the back-office under "
        f"Settings → Workspace ({url_for('backoffice.workspace_edit', _external=False)}), "
        "or name an origin with ?ref=."
    )


def warnings_list(registration: Registration) -> list[dict[str, Any]]:
    """The registration's conflicts, for the success envelope's `warnings`."""
    return [conflict.as_dict() for conflict in registration.warnings]


def register_request(
    origin: Origin,
    reshape: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    on_duplicate: Callable[[Duplicate], Response] = handle_registration_error,
) -> tuple[Registration | Response, dict[str, Any]]:
    """Register the request's body through `origin`, read as every registration body is
    (after `reshape`, which turns a dialect's body into leadsite's keys). Returns the
    registration, or the refusal in the API's envelope, with the body as sent; notes both."""
    sent: dict[str, Any] = {}
    if refusal := check_origin(origin):
        note(code=refusal.json["code"] if refusal.json else None)
        return refusal, sent
    try:
        sent = read_body(request)
        body = reshape(sent) if reshape else sent
        fields = sort_keys(body, from_form=request.mimetype in FORM_TYPES)
        lead_input, context = lead_input_from_body(RegistrationBody.model_validate(fields), request)
        context.on_written = _written
        registration = register(origin, lead_input, context)
    except InvalidJSON as error:
        note(code="INVALID_JSON")
        return handle_invalid_json(error), sent
    except ValidationError as error:
        note(code="VALIDATION_ERROR")
        return handle_pydantic_error(error), sent
    except Duplicate as error:
        note(code=error.code, lead_id=error.existing_lead_id)
        return on_duplicate(error), sent
    except RegistrationError as error:
        note(code=error.code)
        return handle_registration_error(error), sent
    note(lead_id=registration.lead.id, created=registration.created)
    return registration, sent


def _written(lead_id: str, created: bool) -> None:
    """Inside the registration's transaction: the ingestion log's note, and the request's
    `Idempotency-Key` reservation, learn the lead."""
    note_registration(lead_id, created)
    record_written(lead_id, created)
