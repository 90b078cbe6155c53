"""Mapped origins: a sender's own JSON (a form service's, an ad platform's webhook) made into a
registration by the origin's JMESPath expressions, one per lead field, data point or custom
field. The result goes through the API's own reading of a body, then `register()`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jmespath
from flask import Request
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult
from pydantic import ValidationError

from leadsite.api.body import sort_keys
from leadsite.api.errors import pydantic_errors
from leadsite.api.lead_input import lead_input_from_body
from leadsite.api.schemas import RegistrationBody
from leadsite.models import UTM_FIELDS
from leadsite.registration import FieldError, LeadInput, RegistrationContext, ValidationFailed

DATA_PREFIX = "data."
CUSTOM_PREFIX = "custom."
LEAD_FIELDS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "name",
    "address",
    "unique_id",
    "status",
    "source",
    "source_url",
    "referrer",
    "country_code",
    "tags",
    "opt_in",
    "sms_opt_in",
    "redirect_url",
    *UTM_FIELDS,
)
MAX_RULES = 100
MAX_EXPRESSION = 1000
MAX_NAME = 100


@dataclass
class Mapped:
    """What a payload maps to: the registration's input, or why it cannot be one."""

    lead_input: LeadInput | None = None
    context: RegistrationContext | None = None
    body: dict[str, Any] = field(default_factory=dict)  # the registration body it made
    errors: list[FieldError] = field(default_factory=list)


@lru_cache(maxsize=1024)
def compiled(expression: str) -> ParsedResult:
    """The parsed expression (parsing costs more than searching; origins reuse theirs)."""
    return jmespath.compile(expression)


def target_problem(target: str) -> str | None:
    """Why `target` names nothing a lead can hold, or None."""
    for prefix, noun in ((DATA_PREFIX, "data point"), (CUSTOM_PREFIX, "custom field")):
        if target.startswith(prefix):
            name = target.removeprefix(prefix)
            if not name.strip() or len(name) > MAX_NAME:
                return f"Name the {noun} after “{prefix}” (at most {MAX_NAME} characters)"
            return None
    if target in LEAD_FIELDS:
        return None
    return (
        f"“{target}” is not a lead field; use one of {', '.join(LEAD_FIELDS)}, "
        f"or data.<data point>, or custom.<key>"
    )


def check_mapping(raw: Any) -> tuple[dict[str, str], list[FieldError]]:
    """A mapping as stored (target -> expression) and every problem found in it."""
    if not isinstance(raw, dict):
        message = "The mapping must be an object of target to expression"
        return {}, [FieldError("mapping", message, raw)]
    errors: list[FieldError] = []
    if len(raw) > MAX_RULES:
        errors.append(FieldError("mapping", f"At most {MAX_RULES} mapped fields", raw))
    mapping: dict[str, str] = {}
    for target, expression in raw.items():
        where = f"mapping.{target}"
        target = str(target).strip()
        if (problem := target_problem(target)) is not None:
            errors.append(FieldError(where, problem, target))
            continue
        if not isinstance(expression, str) or not expression.strip():
            errors.append(FieldError(where, "The expression must be a JMESPath text", expression))
            continue
        expression = expression.strip()
        if len(expression) > MAX_EXPRESSION:
            errors.append(FieldError(where, f"At most {MAX_EXPRESSION} characters", expression))
            continue
        try:
            compiled(expression)
        except JMESPathError as error:
            errors.append(FieldError(where, f"Not a JMESPath expression: {error}", expression))
            continue
        mapping[target] = expression
    return mapping, errors


def apply_mapping(mapping: dict[str, str], payload: Any) -> tuple[dict[str, Any], list[FieldError]]:
    """The registration body the payload maps to; targets whose expression finds nothing are
    left out."""
    body: dict[str, Any] = {}
    data: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    errors: list[FieldError] = []
    for target, expression in mapping.items():
        try:
            value = compiled(expression).search(payload)
        except JMESPathError as error:  # e.g. a function given the wrong type at run time
            errors.append(FieldError(target, f"The expression failed: {error}", expression))
            continue
        if value is None:
            continue
        if target.startswith(DATA_PREFIX):
            data[target.removeprefix(DATA_PREFIX)] = value
        elif target.startswith(CUSTOM_PREFIX):
            custom[target.removeprefix(CUSTOM_PREFIX)] = value
        else:
            body[target] = value
    if data:
        body["journey_data"] = [{"Name": name, "Value": value} for name, value in data.items()]
    if custom:
        body["metadata"] = custom
    return body, errors


def map_payload(mapping: dict[str, str] | None, payload: Any, request: Request) -> Mapped:
    """The `LeadInput` a payload makes: through the mapping when the origin has one, else read
    as a registration body (as `POST /api/v1/leads` reads it)."""
    errors: list[FieldError] = []
    if mapping:
        body, errors = apply_mapping(mapping, payload)
    elif isinstance(payload, dict):
        body = payload
    else:
        return Mapped(errors=[FieldError("body", "Without a mapping the body must be an object")])
    try:
        fields = RegistrationBody.model_validate(sort_keys(body))
        lead_input, context = lead_input_from_body(fields, request)
    except ValidationError as error:
        return Mapped(body=body, errors=[*errors, *pydantic_errors(error)])
    except ValidationFailed as error:
        return Mapped(body=body, errors=[*errors, *error.errors])
    return Mapped(lead_input, context, body, errors)
