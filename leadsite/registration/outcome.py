"""`Outcome`: what became of one input of `register_many()`, as the API would have answered it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from leadsite.registration.errors import (
    Conflict,
    Duplicate,
    FieldError,
    RegistrationError,
    ValidationFailed,
)
from leadsite.registration.steps import Registration

Status = Literal["created", "updated", "rejected"]


@dataclass
class Outcome:
    """What became of one input: its lead (created or updated), or why it was refused, with the
    codes the single API endpoint answers."""

    status: Status
    lead_id: str | None = None
    code: str | None = None  # the RegistrationError's code, for a rejected input
    http_status: int = 200  # what the single endpoint would have answered
    message: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[Conflict] = field(default_factory=list)
    existing_lead_id: str | None = None  # DUPLICATE_*: the lead that holds the identifier
    # The refusal itself, and (`register()`, a batch of one) the registration made.
    error: RegistrationError | None = field(default=None, repr=False, compare=False)
    registration: Registration | None = field(default=None, repr=False, compare=False)

    @property
    def created(self) -> bool:
        return self.status == "created"

    @classmethod
    def refused(cls, error: RegistrationError) -> Outcome:
        return cls(
            status="rejected",
            code=error.code,
            http_status=error.status,
            message=error.message,
            errors=list(error.errors) if isinstance(error, ValidationFailed) else [],
            existing_lead_id=error.existing_lead_id if isinstance(error, Duplicate) else None,
            error=error,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "code": self.code,
            "lead_id": self.lead_id,
            "created": self.created,
            "errors": [error.as_dict() for error in self.errors],
            "warnings": [warning.as_dict() for warning in self.warnings],
        }
