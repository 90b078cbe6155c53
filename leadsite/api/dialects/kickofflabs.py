"""The KickoffLabs dialect: `POST /v2/<campaign>/`, `POST /v1/<campaign>/subscribe` and
`GET /v1/<campaign>/info`, so that KickoffLabs clients work with only the base URL and key changed.

A campaign is an API origin's ref, or a funnel id (its first active API origin). Matching,
merging, referrals and points are `register()`'s; this module only translates.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, request
from limits import parse
from pydantic import ValidationError
from werkzeug.wrappers import Response

from leadsite.api.auth import check_key
from leadsite.api.body import FORM_TYPES, InvalidJSON
from leadsite.api.cors import origin_allowed
from leadsite.api.dialects.kickofflabs_input import (
    Controls,
    lead_input,
    request_data,
    split_controls,
)
from leadsite.api.dialects.kickofflabs_schemas import KickoffLabsBody, KickoffLabsLead, lead_payload
from leadsite.api.errors import handle_registration_error, pydantic_errors, validation_response
from leadsite.api.idempotency import Registered, answer_once, record_written
from leadsite.api.ingest import note
from leadsite.api.openapi import operation, query_param
from leadsite.errors import api_error
from leadsite.extensions import db, limiter
from leadsite.models import Journey, Lead, Origin, OriginKind, Workspace
from leadsite.registration import FieldError, RegistrationError, ValidationFailed, register
from leadsite.registration.referrals import read_code
from leadsite.values import Invalid, email, phone

bp = Blueprint("kickofflabs", __name__)

DIALECT = "kickofflabs"
MAX_BODY_BYTES = 64 * 1024
KEYLESS_RATE_LIMIT = "20 per minute"  # the public forms' default
REGISTER_ENDPOINTS = ("kickofflabs.register_v2", "kickofflabs.register_v2_slash")
SUBSCRIBE_ENDPOINT = "kickofflabs.subscribe_v1"
INFO_ENDPOINT = "kickofflabs.info_v1"
# Bearer key, `api_key` in the query (or body), or no key from an allowed site.
SECURITY = [{"bearerAuth": []}, {"apiKeyQuery": []}, {}]
REGISTER_ERRORS = (400, 404, 409, 413, 415, 422, 423, 429)


def find_campaign(campaign_id: str, workspace_id: str | None) -> Origin | None:
    """The API origin a campaign id names: by its ref, else a funnel's first active one."""
    by_ref = db.select(Origin).filter_by(ref=campaign_id, kind=OriginKind.API)
    by_funnel = (
        db.select(Origin)
        .filter_by(funnel_id=campaign_id, kind=OriginKind.API, active=True)
        .order_by(Origin.created_at, Origin.id)
        .limit(1)
    )
    if workspace_id is not None:
        by_ref = by_ref.filter_by(workspace_id=workspace_id)
        by_funnel = by_funnel.filter_by(workspace_id=workspace_id)
    return db.session.scalar(by_ref) or db.session.scalar(by_funnel)


def refuse(status: int, message: str, code: str) -> Response:
    note(dialect=DIALECT, code=code)
    return api_error(status, message, code)


def invalid_access(message: str) -> Response:
    return refuse(409, message, "INVALID_API_ACCESS")


def over_limit(rate: str, *identity: str) -> Response | None:
    """A 429 with Retry-After when this caller has used up `rate`; None otherwise."""
    if not limiter.enabled:  # RATELIMIT_ENABLED off: Flask-Limiter has no strategy to ask
        return None
    item = parse(rate)
    if limiter.limiter.hit(item, DIALECT, *identity):
        return None
    reset = limiter.limiter.get_window_stats(item, DIALECT, *identity).reset_time
    response = refuse(429, "Too many requests: wait and try again", "RATE_LIMITED")
    response.headers["Retry-After"] = str(max(1, int(reset - time.time()) + 1))
    return response


def keyless_allowed(origin: Origin) -> bool:
    """A browser form on one of the origin's allowed sites, when the origin accepts that."""
    browser_origin = request.headers.get("Origin")
    return bool(
        (origin.settings or {}).get("accept_keyless")
        and browser_origin
        and origin_allowed(browser_origin, origin.allowed_domains or [])
    )


def authorize(campaign_id: str, controls: Controls) -> Origin | Response:
    """The campaign's origin, once the caller may use it: a live key of its workspace, or a
    keyless call from an allowed site (rate-limited per IP, and without points)."""
    if controls.key:
        if not check_key(controls.key):
            return invalid_access("Invalid or revoked API key")
        origin = find_campaign(campaign_id, g.workspace_id)
        if origin is None:
            return refuse(404, "No campaign with this id in your workspace", "NOT_FOUND")
        note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)
        rate = current_app.config["API_RATE_LIMIT"]
        return over_limit(rate, "key", g.api_key_id) or origin
    origin = find_campaign(campaign_id, None)
    if origin is None:
        return refuse(404, "No campaign with this id", "NOT_FOUND")
    note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)
    if not keyless_allowed(origin):
        return invalid_access("Send your API key as api_key or `Authorization: Bearer <key>`")
    if controls.points not in (None, ""):
        return invalid_access("Points are accepted only with an API key")
    rate = current_app.config.get("PUBLIC_FORM_RATE_LIMIT") or KEYLESS_RATE_LIMIT
    return over_limit(rate, "keyless", origin.ref, request.remote_addr or "") or origin


def _register(campaign_id: str) -> Response:
    request.max_content_length = MAX_BODY_BYTES
    try:
        lead_fields, controls = split_controls(request_data(request), request)
    except InvalidJSON as error:
        _note_campaign(campaign_id)
        return refuse(400, error.description or "Invalid JSON", "INVALID_JSON")
    authorized = authorize(campaign_id, controls)
    if isinstance(authorized, Response):
        return authorized
    return answer_once(
        lambda: _registered(authorized, lead_fields, controls),
        lambda done: _replayed(authorized, controls, done),
    )


def _note_campaign(campaign_id: str) -> None:
    """Note the origin of a call whose body cannot be read, so that its refusal is in the
    campaign's ingestion log: the origin the key names, the key taken from the header or the
    query (not from the body); without a live key, the one the campaign id names, as a keyless
    call's is noted before it is allowed."""
    _, controls = split_controls(request_data(request, with_body=False), request)
    workspace_id = g.workspace_id if controls.key and check_key(controls.key) else None
    origin = find_campaign(campaign_id, workspace_id)
    if origin is not None:
        note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)


def _registered(origin: Origin, lead_fields: dict[str, Any], controls: Controls) -> Response:
    try:
        data, context = lead_input(lead_fields, controls, request)
        context.on_written = record_written
        registration = register(origin, data, context)
    except ValidationError as error:
        note(dialect=DIALECT, code="VALIDATION_ERROR")
        return validation_response(pydantic_errors(error))
    except RegistrationError as error:
        note(code=error.code)
        return handle_registration_error(error)
    lead = registration.lead
    note(lead_id=lead.id, created=registration.created)  # answered 200 either way
    journey, created = registration.journey, registration.created
    target = journey.redirect_url or origin.redirect_url
    if target and browser_form():
        return redirect(target, 303)  # a page's own form: the visitor goes on, as with KickoffLabs
    # Keyless: whoever fills the form sees what they sent, not what a known lead had stored.
    share_only = not controls.key and not created
    return jsonify(lead_payload(lead, journey, origin, created, controls.skip_urls, share_only))


def _replayed(origin: Origin, controls: Controls, registered: Registered) -> Response:
    """`_registered`'s answer rebuilt from what a first request registered, should that request
    have lost its answer (`api.idempotency`)."""
    (_, lead_id, created), *_ = registered
    lead = db.session.get(Lead, lead_id)
    journey = db.session.scalar(
        db.select(Journey).filter_by(lead_id=lead_id, funnel_id=origin.funnel_id)
    )
    if lead is None or journey is None:  # erased since
        return jsonify(success=True, erased=True, data={"id": lead_id})
    target = journey.redirect_url or origin.redirect_url
    if target and browser_form():
        return redirect(target, 303)
    share_only = not controls.key and not created
    return jsonify(lead_payload(lead, journey, origin, created, controls.skip_urls, share_only))


def browser_form() -> bool:
    """A form a browser submitted as a page navigation (it prefers HTML), not a script's call."""
    best = request.accept_mimetypes.best_match(("application/json", "text/html"))
    return request.mimetype in FORM_TYPES and best == "text/html"


REGISTER_SPEC = {
    "tag": "kickofflabs",
    "body": KickoffLabsBody,
    "form_body": True,
    "responses": {
        200: ("The lead, created or updated", KickoffLabsLead),
        303: ("A browser's form navigation goes on to the redirect URL", None),
    },
    "errors": REGISTER_ERRORS,
    "security": SECURITY,
}


@bp.post("/v2/<campaign_id>/", endpoint="register_v2_slash")
@bp.post("/v2/<campaign_id>", endpoint="register_v2")
@operation(
    endpoints=REGISTER_ENDPOINTS, summary="KickoffLabs: create or update a lead", **REGISTER_SPEC
)
def register_v2(campaign_id: str) -> Response:
    """Create or update a lead in the campaign (KickoffLabs API v2)."""
    return _register(campaign_id)


@bp.post("/v1/<campaign_id>/subscribe", endpoint="subscribe_v1")
@operation(
    endpoints=(SUBSCRIBE_ENDPOINT,), summary="KickoffLabs v1: subscribe a lead", **REGISTER_SPEC
)
def subscribe_v1(campaign_id: str) -> Response:
    """Subscribe a lead to the campaign (KickoffLabs API v1, form fields with `api_key`)."""
    return _register(campaign_id)


@bp.get("/v1/<campaign_id>/info", endpoint="info_v1")
@operation(
    endpoints=(INFO_ENDPOINT,),
    summary="KickoffLabs v1: a lead of the campaign",
    tag="kickofflabs",
    query=[
        query_param("email", "The lead's email"),
        query_param("phone_number", "The lead's phone number"),
        query_param("social_id", "The lead's share code"),
    ],
    responses={200: ("The lead", KickoffLabsLead)},
    errors=(400, 404, 409, 422, 429),
    security=[{"bearerAuth": []}, {"apiKeyQuery": []}],
)
def info_v1(campaign_id: str) -> Response:
    """A lead of the campaign, by email, phone number or share code; an API key is required
    (the answer holds personal data)."""
    lead_fields, controls = split_controls(request_data(request, with_body=False), request)
    if not controls.key:
        return invalid_access("Send your API key as api_key or `Authorization: Bearer <key>`")
    authorized = authorize(campaign_id, controls)
    if isinstance(authorized, Response):
        return authorized
    origin = authorized
    try:
        lead = _find_lead(origin, lead_fields, controls)
    except ValidationFailed as error:
        note(code="VALIDATION_ERROR")
        return validation_response(error.errors)
    if lead is None:
        return refuse(404, "No lead of this campaign matches", "LEAD_NOT_FOUND")
    note(lead_id=lead.id)
    journey = db.session.scalar(
        db.select(Journey).filter_by(lead_id=lead.id, funnel_id=origin.funnel_id)
    )
    return jsonify(lead_payload(lead, journey, origin, False, controls.skip_urls))


def _find_lead(origin: Origin, fields: dict[str, object], controls: Controls) -> Lead | None:
    """The lead with a journey in the campaign's funnel named by the query."""
    workspace = db.session.get(Workspace, origin.workspace_id)
    assert workspace is not None
    query = (
        db.select(Lead)
        .join(Journey, Journey.lead_id == Lead.id)
        .where(Journey.funnel_id == origin.funnel_id, Lead.erased_at.is_(None))
    )
    try:
        if fields.get("email"):
            return db.session.scalar(query.where(Lead.email == email(fields["email"])))
        if fields.get("phone_number"):
            number = phone(fields["phone_number"], workspace.default_country)
            return db.session.scalar(query.where(Lead.phone == number))
    except Invalid as error:
        name = "email" if fields.get("email") else "phone_number"
        raise ValidationFailed([FieldError(name, f"{name} {error}", fields[name])]) from None
    code = read_code(controls.referral_code)
    if code:
        return db.session.scalar(query.where(Lead.social_id == code))
    raise ValidationFailed([FieldError("email", "Send email, phone_number or social_id", None)])


@bp.after_request
def add_cors_headers(response: Response) -> Response:
    """Browser forms of a keyless campaign's allowed sites may read the answer."""
    browser_origin = request.headers.get("Origin")
    campaign_id = (request.view_args or {}).get("campaign_id")
    if not browser_origin or not campaign_id or request.endpoint == INFO_ENDPOINT:
        return response
    origin = find_campaign(campaign_id, None)
    if origin is None or not origin_allowed(browser_origin, origin.allowed_domains or []):
        return response
    response.headers["Access-Control-Allow-Origin"] = browser_origin
    response.vary.add("Origin")
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    return response
