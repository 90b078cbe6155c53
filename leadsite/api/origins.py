"""`/api/v1/funnels/<id>/origins`, `/api/v1/origins/<id>` and its ingestion `log`: create, read
and change origins (mappings and hook URLs too), and read what came in through them."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request
from werkzeug.wrappers import Response

from leadsite import funnels, values
from leadsite.api import bp
from leadsite.api.body import read_body
from leadsite.api.errors import validation_response
from leadsite.api.lookup import scoped_or_404
from leadsite.api.mapping import check_mapping
from leadsite.api.openapi import operation, query_param
from leadsite.api.origin_schemas import (
    IngestionLogResponse,
    OriginIn,
    OriginPatch,
    OriginResponse,
)
from leadsite.extensions import db
from leadsite.ingestion import InvalidCursor, list_entries
from leadsite.models import Funnel, IngestionEntry, IngestOutcome, Origin, OriginKind
from leadsite.registration import FieldError
from leadsite.representations import iso

ERRORS = (400, 401, 404, 413, 415, 422, 429)
MAX_PAGE = 200


def hook_url(origin: Origin) -> str | None:
    """The inbound URL of an API origin, or None (other kinds, or no secret yet)."""
    if origin.kind != OriginKind.API or not origin.hook_secret:
        return None
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/hooks/{origin.ref}/{origin.hook_secret}"


def origin_dict(origin: Origin) -> dict[str, Any]:
    return {
        "id": origin.id,
        "kind": origin.kind,
        "name": origin.name,
        "ref": origin.ref,
        "active": origin.active,
        "allowed_domains": list(origin.allowed_domains or []),
        "redirect_url": origin.redirect_url,
        "mapping": dict(origin.mapping) if origin.mapping else None,
        "hook_url": hook_url(origin),
    }


def origin_detail(origin: Origin) -> dict[str, Any]:
    return {
        **origin_dict(origin),
        "funnel_id": origin.funnel_id,
        "success_message": origin.success_message,
        "created_at": iso(origin.created_at),
    }


def entry_dict(entry: IngestionEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": iso(entry.at),
        "dialect": entry.dialect,
        "outcome": entry.outcome,
        "status": entry.status,
        "lead_id": entry.lead_id,
        "codes": list(entry.codes or []),
        "message": entry.message,
        "errors": list((entry.details or {}).get("errors") or []),
        "method": entry.method,
        "query": entry.query,
        "body": entry.body,
    }


def _problems(kind: str, changes: dict[str, Any]) -> list[FieldError]:
    """Every problem of the settings given, as the back-office checks them."""
    # Imported here: the back-office's modules import the API's (its mapping), not the reverse.
    from leadsite.backoffice.funnel_domains import domain_problem

    errors: list[FieldError] = []
    for item in changes.get("allowed_domains") or []:
        if (problem := domain_problem(item)) is not None:
            errors.append(FieldError("allowed_domains", problem, item))
    if redirect_url := changes.get("redirect_url"):
        try:
            values.url(redirect_url)
        except values.Invalid as error:
            errors.append(FieldError("redirect_url", f"Redirect URL {error}", redirect_url))
    if changes.get("mapping"):
        if kind != OriginKind.API:
            errors.append(FieldError("mapping", "Only API origins take a mapping"))
        else:
            changes["mapping"], found = check_mapping(changes["mapping"])
            errors.extend(found)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if not changes["name"]:
            errors.append(FieldError("name", "Name must not be empty"))
    return errors


@bp.post("/funnels/<funnel_id>/origins")
@operation(
    summary="Add an origin to a funnel (an API origin gets its hook URL at once)",
    tag="origins",
    body=OriginIn,
    responses={201: ("Created", OriginResponse)},
    errors=ERRORS,
)
def create_origin(funnel_id: str) -> Response:
    """Add an origin of any kind with its random ref; forms start with the default fields."""
    from leadsite.backoffice.funnel_origin_forms import FORM_KINDS, default_form

    funnel = scoped_or_404(Funnel, funnel_id, "funnel")
    data = OriginIn.model_validate(read_body(request)).model_dump()
    if errors := _problems(data["kind"], data):
        return validation_response(errors)
    fields: dict[str, Any] = {
        "allowed_domains": list(
            dict.fromkeys(d.lower().rstrip("/") for d in data["allowed_domains"])
        ),
        "redirect_url": data["redirect_url"],
        "success_message": data["success_message"],
        "mapping": data["mapping"] or None,
        "active": data["active"],
    }
    if data["kind"] in FORM_KINDS:
        fields["form_fields"] = default_form(funnel.identifier)
    origin = funnels.add_origin(funnel, OriginKind(data["kind"]), data["name"], **fields)
    db.session.commit()
    response = jsonify(success=True, data=origin_detail(origin))
    response.status_code = 201
    return response


@bp.get("/origins/<origin_id>")
@operation(
    summary="Read an origin, with its mapping and hook URL",
    tag="origins",
    responses={200: ("The origin", OriginResponse)},
    errors=(401, 404, 429),
)
def get_origin(origin_id: str) -> Response:
    """One origin of the workspace."""
    return jsonify(success=True, data=origin_detail(scoped_or_404(Origin, origin_id, "origin")))


@bp.patch("/origins/<origin_id>")
@operation(
    summary="Change an origin: name, sites, texts, mapping, active; rotate its hook secret",
    tag="origins",
    body=OriginPatch,
    responses={200: ("Changed", OriginResponse)},
    errors=ERRORS,
)
def update_origin(origin_id: str) -> Response:
    """Change what is given; `"mapping": null` removes the mapping, `rotate_hook_secret`
    replaces the hook URL (the old one answers 404 at once)."""
    origin = scoped_or_404(Origin, origin_id, "origin")
    patch = OriginPatch.model_validate(read_body(request))
    changes = patch.model_dump(include=patch.model_fields_set - {"rotate_hook_secret"})
    if errors := _problems(origin.kind, changes):
        return validation_response(errors)
    if patch.rotate_hook_secret and origin.kind != OriginKind.API:
        return validation_response(
            [FieldError("rotate_hook_secret", "Only API origins have a hook URL")]
        )
    if "allowed_domains" in changes:
        domains = (d.lower().rstrip("/") for d in changes["allowed_domains"])
        changes["allowed_domains"] = list(dict.fromkeys(domains))
    if "mapping" in changes:
        changes["mapping"] = changes["mapping"] or None
    for name, value in changes.items():
        setattr(origin, name, value)
    if patch.rotate_hook_secret:
        funnels.rotate_hook_secret(origin)
    db.session.commit()
    return jsonify(success=True, data=origin_detail(origin))


@bp.get("/origins/<origin_id>/log")
@operation(
    summary="The origin's ingestion log: every call that came in through it, newest first",
    tag="origins",
    query=[
        query_param(
            "limit", "Page size (1-200, default 50)", type="integer", minimum=1, maximum=MAX_PAGE
        ),
        query_param("cursor", "The `next_cursor` of the previous page"),
        query_param(
            "outcome",
            "Only calls with this outcome (empty: all)",
            enum=[o.value for o in IngestOutcome] + [""],
        ),
    ],
    responses={200: ("A page of entries (kept 30 days)", IngestionLogResponse)},
    errors=(401, 404, 422, 429),
)
def origin_log(origin_id: str) -> Response:
    """Calls to the origin of the last 30 days: outcome, status, lead, codes, redacted body."""
    origin = scoped_or_404(Origin, origin_id, "origin")
    errors: list[FieldError] = []
    raw_limit = request.args.get("limit")
    try:
        limit = int(raw_limit) if raw_limit is not None else 50
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError
    except ValueError:
        errors.append(
            FieldError("limit", f"Must be a whole number from 1 to {MAX_PAGE}", raw_limit)
        )
        limit = 50
    outcome = request.args.get("outcome") or None
    if outcome is not None and outcome not in set(IngestOutcome):
        errors.append(FieldError("outcome", "Must be created, updated, rejected or error", outcome))
    try:
        page = list_entries(origin.id, outcome, request.args.get("cursor") or None, limit)
    except InvalidCursor:
        errors.append(FieldError("cursor", "Not a cursor from this API", request.args["cursor"]))
    if errors:
        return validation_response(errors)
    return jsonify(
        success=True,
        data=[entry_dict(entry) for entry in page.entries],
        has_more=page.next_cursor is not None,
        next_cursor=page.next_cursor,
    )
