"""Why a registration was refused; the API, forms and importers each present these their way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "message": self.message}


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
