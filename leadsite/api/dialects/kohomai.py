"""Kohomai's older API: `POST /api/v1/journeys?ref=` (the nested body of the older guide and the
flat one of the no-code guide), `POST /api/v1/sessions` (a one-time sign-in link to a journey),
`GET /api/v1/journeys` and `GET /api/v1/workflows` (the funnels, by Kohomai's other name).

`POST /api/v1/leads?ref=` is leadsite's own door (`api.leads`), which Kohomai's current guide
calls as it is.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, request
from pydantic import ValidationError
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.body import canonical, read_body
from leadsite.api.dialects.doors import (
    api_origin,
    default_origin,
    no_default_origin_message,
    register_request,
)
from leadsite.api.dialects.kohomai_schemas import (
    KohomaiJourneyAnswer,
    KohomaiJourneyBody,
    KohomaiSessionBody,
)
from leadsite.api.errors import handle_pydantic_error, validation_response
from leadsite.api.funnels import list_funnels
from leadsite.api.idempotency import Registered, answer_once
from leadsite.api.ingest import note
from leadsite.api.openapi import operation, query_param
from leadsite.api.schemas import FunnelListResponse
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.journeys.sessions import open_session
from leadsite.models import DataPoint, Journey, Lead, Origin, Scope
from leadsite.registration import FieldError
from leadsite.representations import iso, journey_url
from leadsite.values import Invalid, url

DIALECT = "kohomai"
MAX_BODY_BYTES = 64 * 1024
VALUE_KEYS = ("stringvalue", "value", "numbervalue", "booleanvalue", "datevalue")


def _value_key(keys: dict[str, Any]) -> str | None:
    """The key of a JourneyData item's value: the known ones first, then any other typed one
    (`IntValue`, `TextValue`, ...), which would otherwise be dropped and null stored."""
    known = next((key for key in VALUE_KEYS if key in keys), None)
    return known or next((key for key in keys if key.endswith("value")), None)


def _keyed(value: Any) -> dict[str, Any]:
    """A JSON object's items by canonical key (case, `_` and `-` ignored); {} for non-objects."""
    return {canonical(str(k)): v for k, v in value.items()} if isinstance(value, dict) else {}


def _data_point_names(workspace_id: str, ids: list[str]) -> dict[str, str]:
    """Data point id -> name, for the ids that are ids of this workspace's data points."""
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(DataPoint.id, DataPoint.name).where(
            DataPoint.workspace_id == workspace_id, DataPoint.id.in_(ids)
        )
    )
    return {point_id: name for point_id, name in rows}


def flat_body(body: dict[str, Any], workspace_id: str) -> dict[str, Any]:
    """The older guide's nested body in leadsite's keys; the flat body as it is."""
    nested = next((v for k, v in body.items() if canonical(str(k)) == "journey"), None)
    if not isinstance(nested, dict):
        return body
    flat = {k: v for k, v in body.items() if canonical(str(k)) != "journey"}
    journey = _keyed(nested)
    user = _keyed(journey.get("user"))
    prefs = _keyed(user.get("contactprefs"))
    for field, value in (
        ("email", prefs.get("email")),
        ("phone", prefs.get("phone", prefs.get("phonenumber"))),
        ("first_name", user.get("firstname")),
        ("last_name", user.get("lastname")),
    ):
        if value is not None:
            flat[field] = value
    items = journey.get("journeydata")
    if not isinstance(items, list):
        if items is not None:
            flat["journey_data"] = items  # the pipeline says what is wrong with it
        return flat
    refs = [_keyed(_keyed(item).get("datapoint")).get("id") for item in items]
    names = _data_point_names(workspace_id, [ref for ref in refs if isinstance(ref, str)])
    data: list[Any] = []
    for item, ref in zip(items, refs, strict=True):
        keys = _keyed(item)
        if not keys:
            data.append(item)
            continue
        key = _value_key(keys)
        value = keys[key] if key else None
        data.append({"Name": names.get(ref, ref) if isinstance(ref, str) else ref, "Value": value})
    flat["journey_data"] = data
    return flat


def journey_answer(journey: Journey, connection_url: str, valid_until: str | None) -> dict:
    """Kohomai's journey: `UUID`, `ConnectionURL`, `ValidUntil`, dates and its `User`."""
    lead = db.session.get(Lead, journey.lead_id)
    return {
        "UUID": journey.id,
        "RedirectURL": journey.redirect_url,
        "ConnectionURL": connection_url,
        "ValidUntil": valid_until,
        "createdDate": iso(journey.created_at),
        "changedDate": iso(journey.updated_at),
        "User": {"Firstname": lead.first_name, "Lastname": lead.last_name, "Id": lead.id},
    }


@bp.post("/journeys")
@operation(
    summary="Register a lead and answer with their journey (Kohomai's older guides)",
    description="The older guide's nested body (`Journey.User.ContactPrefs.Email`, "
    "`Journey.JourneyData[].DataPoint.Id` naming a data point by id or name) or the no-code "
    "guide's flat one (`Email`, `Firstname`, `Lastname`, `PhoneNumber`). Without `ref`, the "
    "workspace's default API origin. `ConnectionURL` opens the lead's journey page.",
    tag="dialects",
    body=KohomaiJourneyBody,
    form_body=True,
    query=[query_param("ref", "The API origin's reference code (default: the workspace's)")],
    responses={
        201: ("A new lead and journey", KohomaiJourneyAnswer),
        200: ("An existing lead was updated", KohomaiJourneyAnswer),
    },
    errors=(400, 401, 404, 409, 413, 415, 422, 423, 429),
    scope=Scope.LEADS_WRITE,
    publishable=True,
)
def create_kohomai_journey() -> Response:
    """Register through the origin named by `ref` and answer with the lead's journey."""
    request.max_content_length = MAX_BODY_BYTES
    note(dialect=DIALECT, workspace_id=g.workspace_id)
    ref = request.args.get("ref", "").strip()
    origin = api_origin(ref, g.workspace_id) if ref else default_origin(g.workspace_id)
    if origin is None:
        note(code="NOT_FOUND")
        message = "No API origin with this ref in your workspace" if ref else None
        return api_error(404, message or no_default_origin_message(), "NOT_FOUND")
    note(origin_id=origin.id)
    return answer_once(lambda: _journey_answer(origin), lambda done: _replayed(origin, done))


def _journey_answer(origin: Origin) -> Response:
    registration, _ = register_request(
        origin, reshape=lambda body: flat_body(body, origin.workspace_id)
    )
    if isinstance(registration, Response):
        return registration
    journey = registration.journey
    response = jsonify(journey_answer(journey, journey_url(journey), iso(journey.valid_until)))
    response.status_code = 201 if registration.created else 200
    return response


def _replayed(origin: Origin, registered: Registered) -> Response:
    """`_journey_answer`'s answer rebuilt from what a first request registered, should that
    request have lost its answer (`api.idempotency`)."""
    (_, lead_id, created), *_ = registered
    journey = db.session.scalar(
        db.select(Journey).filter_by(lead_id=lead_id, funnel_id=origin.funnel_id)
    )
    if journey is None:  # erased since
        return jsonify(success=True, erased=True, data={"id": lead_id})
    response = jsonify(journey_answer(journey, journey_url(journey), iso(journey.valid_until)))
    response.status_code = 201 if created else 200
    return response


@bp.post("/sessions")
@operation(
    summary="A one-time sign-in link to a journey's page (Kohomai's front-office session)",
    description="`ConnectionURL` works once, for 10 minutes: it signs the lead in to the "
    "front-office (their journeys at `/j/`) and opens this journey's page; used again it offers "
    "the lead a fresh link by email. `RedirectURL`, when given, is where the page sends the "
    "lead once every task is done.",
    tag="dialects",
    body=KohomaiSessionBody,
    responses={201: ("The journey with a one-time ConnectionURL", KohomaiJourneyAnswer)},
    errors=(400, 401, 404, 413, 415, 422, 429),
    scope=Scope.LEADS_WRITE,  # never publishable: it signs a lead in
)
def create_kohomai_session() -> Response:
    """Open a one-time sign-in link to the journey named in the body."""
    request.max_content_length = MAX_BODY_BYTES
    note(dialect=DIALECT, workspace_id=g.workspace_id)
    try:
        body = KohomaiSessionBody.model_validate(_session_fields(read_body(request)))
    except ValidationError as error:
        note(code="VALIDATION_ERROR")
        return handle_pydantic_error(error)
    journey = db.session.scalar(
        db.select(Journey).filter_by(id=body.Journey.Id, workspace_id=g.workspace_id)
    )
    lead = db.session.get(Lead, journey.lead_id) if journey else None
    if journey is None or lead is None or lead.erased_at is not None:
        note(code="NOT_FOUND")
        return api_error(404, "No such journey", "NOT_FOUND")
    note(origin_id=journey.origin_id, lead_id=journey.lead_id)
    try:
        redirect_url = url(body.RedirectURL)
    except Invalid as error:
        note(code="VALIDATION_ERROR")
        message = f"Redirect URL {error}"
        return validation_response([FieldError("RedirectURL", message, body.RedirectURL)])
    session, token = open_session(journey, redirect_url)
    db.session.commit()
    connection_url = f"{current_app.config['BASE_URL']}/j/session/{token}"
    response = jsonify(journey_answer(journey, connection_url, iso(session.expires_at)))
    response.status_code = 201
    return response


def _session_fields(body: dict[str, Any]) -> dict[str, Any]:
    """`Journey.Id` and `RedirectURL` whatever their case, `_` or `-`."""
    keys = _keyed(body)
    journey = keys.get("journey")
    return {
        "Journey": {"Id": _keyed(journey).get("id")} if isinstance(journey, dict) else journey,
        "RedirectURL": keys.get("redirecturl"),
    }


@bp.get("/workflows")
@operation(
    summary="List funnels (Kohomai calls them workflows)",
    tag="dialects",
    responses={200: ("Funnels", FunnelListResponse)},
    errors=(401, 429),
    scope=Scope.LEADS_READ,
)
def list_workflows() -> Response:
    """Every funnel of the workspace, as `GET /api/v1/funnels` lists them."""
    return list_funnels()
