"""`POST /api/v1/leads/batch?ref=REF`: up to 500 registrations in one call, answered per item."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from pydantic import ValidationError
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.auth import check_origin
from leadsite.api.body import InvalidJSON, parse_json, refuse_unstorable_text, sort_keys
from leadsite.api.errors import handle_registration_error, pydantic_errors
from leadsite.api.idempotency import answer_once, record_answer
from leadsite.api.ingest import note
from leadsite.api.lead_input import lead_input_from_body
from leadsite.api.leads import requested_origin
from leadsite.api.openapi import operation, query_param
from leadsite.api.schemas import MAX_BATCH, BatchBody, BatchResponse, RegistrationBody
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import Funnel, Origin, Scope
from leadsite.registration import (
    FieldError,
    LeadInput,
    NotFound,
    RegistrationContext,
    RegistrationError,
    ValidationFailed,
    check_open,
)
from leadsite.registration.batch import Outcome, register_many

# 500 bodies of a few kilobytes each; the single endpoint allows one of 64 KiB.
MAX_BATCH_BYTES = 8 * 1024 * 1024


@bp.post("/leads/batch")
@operation(
    summary="Register up to 500 leads in one call",
    tag="leads",
    body=BatchBody,
    description="A JSON array of up to 500 registration bodies, each as `POST /leads` takes "
    "it, through the API origin named by `ref` (default: the workspace's). Answers 200 with an "
    "outcome per item, in order: an item that is not an object, or whose values are invalid, "
    "is rejected alone, with the code and errors the single endpoint would have answered. Two "
    "items for the same person: the second updates the lead the first created. "
    "`Idempotency-Key` covers the whole batch.",
    query=[query_param("ref", "The origin's reference code (default: the workspace's)")],
    responses={200: ("An outcome per item, and their counts", BatchResponse)},
    errors=(400, 401, 404, 409, 413, 415, 422, 423, 429),
    scope=Scope.LEADS_WRITE,
    publishable=True,
)
def create_leads_batch() -> Response:
    """Register every item of the JSON array through the API origin named by `ref`."""
    request.max_content_length = MAX_BATCH_BYTES
    origin = requested_origin(request.args.get("ref", "").strip())
    if isinstance(origin, Response):
        return origin
    return answer_once(lambda: _register_batch(origin))


def _register_batch(origin: Origin) -> Response:
    if refusal := check_origin(origin):
        note(code=refusal.json["code"] if refusal.json else None)
        return refusal
    items = _read_items()
    if isinstance(items, Response):
        return items
    funnel = db.session.get(Funnel, origin.funnel_id)
    try:
        if funnel is None:
            raise NotFound()
        check_open(funnel)
    except RegistrationError as error:
        note(code=error.code)
        return handle_registration_error(error)
    outcomes: list[Outcome | None] = []
    inputs: list[LeadInput] = []
    contexts: list[RegistrationContext] = []
    for item in items:
        read = _lead_input(item)
        if isinstance(read, Outcome):
            outcomes.append(read)
            continue
        outcomes.append(None)
        inputs.append(read[0])
        contexts.append(read[1])

    def store_answer(registered: list[Outcome]) -> None:
        # In the registration's transaction: a retry of a call that died before answering
        # gets this answer, and never registers the batch again.
        written = iter(registered)
        record_answer(200, _answer([outcome or next(written) for outcome in outcomes])[0])

    registered = iter(
        register_many(
            origin, inputs, RegistrationContext(), contexts=contexts, before_commit=store_answer
        )
        if inputs
        else []
    )
    done = [outcome or next(registered) for outcome in outcomes]
    body, counts = _answer(done)
    _note_batch(done, counts)
    return jsonify(body)


def _answer(done: list[Outcome]) -> tuple[dict[str, Any], dict[str, int]]:
    """The batch's answer (an outcome per item, in order, and their counts), and the counts."""
    counts = {"created": 0, "updated": 0, "rejected": 0}
    for outcome in done:
        counts[outcome.status] += 1
    data = [{"index": index, **_item(outcome)} for index, outcome in enumerate(done)]
    return {"success": True, "data": data, "counts": counts}, counts


def _read_items() -> list[Any] | Response:
    """The body's array, or the refusal of a body that is not one of 1 to 500 items."""
    if not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        note(code="UNSUPPORTED_MEDIA_TYPE")
        return api_error(415, "Send the batch as a JSON array (application/json)")
    try:
        body = parse_json(request.get_data(cache=True))
    except ValueError:
        note(code="INVALID_JSON")
        return api_error(400, InvalidJSON.description, "INVALID_JSON")
    if not isinstance(body, list) or not body:
        note(code="VALIDATION_ERROR")
        message = "The body must be a JSON array of 1 to 500 registration bodies"
        detail = {"field": "body", "value": None, "message": message}
        return api_error(422, "Validation failed", "VALIDATION_ERROR", detail, [detail])
    if len(body) > MAX_BATCH:
        note(code="PAYLOAD_TOO_LARGE")
        message = f"At most {MAX_BATCH} leads in one batch; this one has {len(body)}"
        detail = {"field": "body", "value": len(body), "message": message}
        return api_error(413, message, "PAYLOAD_TOO_LARGE", detail, [detail])
    return body


def _lead_input(item: Any) -> tuple[LeadInput, RegistrationContext] | Outcome:
    """One item read as the single endpoint reads its body, or its rejection."""
    if not isinstance(item, dict):
        error = FieldError("body", "Each item must be a registration body (a JSON object)", item)
        return Outcome.refused(ValidationFailed([error]))
    try:
        refuse_unstorable_text(item)
        fields = sort_keys(item)
        return lead_input_from_body(RegistrationBody.model_validate(fields), request)
    except InvalidJSON as error:
        field = FieldError("body", error.description or "Invalid text")
        return Outcome.refused(ValidationFailed([field]))
    except ValidationError as error:
        return Outcome.refused(ValidationFailed(pydantic_errors(error)))
    except RegistrationError as error:
        return Outcome.refused(error)


def _item(outcome: Outcome) -> dict[str, Any]:
    return {
        **outcome.as_dict(),
        "message": outcome.message,
        "existingLeadId": outcome.existing_lead_id,
    }


def _note_batch(outcomes: list[Outcome], counts: dict[str, int]) -> None:
    """One ingestion log entry for the batch: its counts, and the codes of its rejections."""
    for outcome in outcomes:
        if outcome.code:
            note(code=outcome.code)
    created = counts["created"] > 0
    note(
        created=created,
        outcome="created" if created else "updated" if counts["updated"] else "rejected",
        message=(
            f"Batch of {len(outcomes)}: {counts['created']} created, "
            f"{counts['updated']} updated, {counts['rejected']} rejected"
        ),
        counts=counts,
    )
