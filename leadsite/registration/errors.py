"""Why a registration was refused; the API, forms and importers each present these their way."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# How much of a refused value an error shows: enough to recognise what was sent, never the
# whole of a megabyte body (an error is logged, stored in the ingestion log and read by people).
SHOWN_TEXT = 200  # characters of a text; a longer one ends with "…"
SHOWN_ITEMS = 20  # items of a list or keys of an object; the rest are counted
SHOWN_DEPTH = 4  # levels of nesting; a container deeper than this is counted, not shown


def shown_value(value: Any, depth: int = 0) -> Any:
    """The value as the client sent it, as JSON: a list stays a list, an object an object (never
    Python's repr), cut where it is very large. A text over SHOWN_TEXT characters keeps its start
    and ends with "…"; a list over SHOWN_ITEMS items keeps its first ones and ends with the text
    "… N more items"; an object over SHOWN_ITEMS keys keeps its first ones and a key "…" whose
    value is "N more keys"; a container nested deeper than SHOWN_DEPTH is the text "[N items]" or
    "{N keys}". Anything JSON has no word for (NaN, bytes, a date) is shown as its text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        if depth >= SHOWN_DEPTH:
            return f"[{len(value)} items]"
        items = [shown_value(item, depth + 1) for item in value[:SHOWN_ITEMS]]
        if len(value) > SHOWN_ITEMS:
            items.append(f"… {len(value) - SHOWN_ITEMS} more items")
        return items
    if isinstance(value, dict):
        if depth >= SHOWN_DEPTH:
            return f"{{{len(value)} keys}}"
        pairs = list(value.items())
        shown = {_cut(str(key)): shown_value(item, depth + 1) for key, item in pairs[:SHOWN_ITEMS]}
        if len(pairs) > SHOWN_ITEMS:
            shown["…"] = f"{len(pairs) - SHOWN_ITEMS} more keys"
        return shown
    return _cut(value if isinstance(value, str) else str(value))


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_TEXT else text[:SHOWN_TEXT] + "…"


@dataclass(frozen=True)
class FieldError:
    """One refused field: `value` is what was sent there, as received (the envelope shows it
    through `shown_value`)."""

    field: str
    message: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": shown_value(self.value), "message": self.message}


@dataclass(frozen=True)
class Conflict:
    """A registration that went through, but could not store an identifier it was given: another
    lead holds it (identifiers are unique per workspace), or the matched lead has its own."""

    field: str
    value: str
    message: str
    lead_id: str | None = None  # the lead holding the value
    code: str = "IDENTIFIER_CONFLICT"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "field": self.field,
            "value": self.value,
            "message": self.message,
            "existingLeadId": self.lead_id,
        }


class RegistrationError(Exception):
    """Base of every refusal: nothing was written."""

    code = "REGISTRATION_FAILED"
    status = 400
    message = "Registration failed"


class NotFound(RegistrationError):
    code, status, message = "NOT_FOUND", 404, "Origin not found"


class FunnelClosed(RegistrationError):
    code, status, message = "FUNNEL_CLOSED", 423, "Registrations to this funnel are closed"


class ValidationFailed(RegistrationError):
    code, status, message = "VALIDATION_ERROR", 422, "Validation failed"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


class Duplicate(RegistrationError):
    status, message = 409, "A lead with this identifier already exists"

    def __init__(self, identifier: str, value: str, existing_lead_id: str) -> None:
        super().__init__(f"duplicate {identifier}")
        self.identifier = identifier
        self.value = value
        self.existing_lead_id = existing_lead_id
        self.code = f"DUPLICATE_{identifier.upper()}"


class LeadNotFound(RegistrationError):
    code, status, message = "LEAD_NOT_FOUND", 404, "No existing lead matches, and must_exist is set"
