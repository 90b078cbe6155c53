"""API error handlers: every refusal in the JSON envelope, with the status its code names."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.body import InvalidJSON
from leadsite.errors import api_error
from leadsite.registration import (
    Duplicate,
    FieldError,
    RegistrationError,
    ValidationFailed,
    shown_value,
)


def validation_response(errors: list[FieldError]) -> Response:
    listed = [error.as_dict() for error in errors]
    return api_error(422, "Validation failed", "VALIDATION_ERROR", listed[0], listed)


def pydantic_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """Pydantic's errors as ours: a dotted field path, the value sent and a sentence."""
    result = []
    for item in error.errors(include_url=False):
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
        # A missing field's "input" is the object that lacks it: nothing was sent there.
        value: Any = None if item["type"] == "missing" else item.get("input")
        result.append(FieldError(prefix + path or "body", item["msg"], value))
    return result


@bp.errorhandler(ValidationError)
def handle_pydantic_error(error: ValidationError) -> Response:
    return validation_response(pydantic_errors(error))


@bp.errorhandler(InvalidJSON)
def handle_invalid_json(error: InvalidJSON) -> Response:
    return api_error(400, error.description or "Invalid JSON", "INVALID_JSON")


@bp.errorhandler(RegistrationError)
def handle_registration_error(error: RegistrationError) -> Response:
    if isinstance(error, ValidationFailed):
        return validation_response(error.errors)
    if isinstance(error, Duplicate):
        details = {
            "field": error.identifier,
            "value": shown_value(error.value),
            "message": f"A lead with this {error.identifier.replace('_', ' ')} already exists",
            "existingLeadId": error.existing_lead_id,
        }
        return api_error(409, error.message, error.code, details, [details])
    return api_error(error.status, error.message, error.code)
