"""`register_many()`: a batch of registrations through one origin, an outcome per input.

The batch API and the CSV import call it; `register()` is a batch of one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from leadsite.models import Origin
from leadsite.registration.errors import (
    Conflict,
    Duplicate,
    FieldError,
    RegistrationError,
    ValidationFailed,
)
from leadsite.registration.inputs import LeadInput, RegistrationContext
from leadsite.registration.pipeline import register

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


def register_many(
    origin: Origin | None,
    inputs: list[LeadInput],
    context: RegistrationContext,
    contexts: list[RegistrationContext] | None = None,
) -> list[Outcome]:
    """Register every input through `origin`, in order; a refused input refuses nothing else.

    Two inputs for the same person: the second updates the lead the first made. `contexts`,
    when given, is each input's own (its IP, user agent, referrer) instead of `context`.
    """
    outcomes: list[Outcome] = []
    for index, lead_input in enumerate(inputs):
        try:
            own = contexts[index] if contexts is not None else context
            registration = register(origin, lead_input, own)
        except RegistrationError as error:
            outcomes.append(Outcome.refused(error))
            continue
        outcomes.append(
            Outcome(
                status="created" if registration.created else "updated",
                lead_id=registration.lead.id,
                http_status=201 if registration.created else 200,
                warnings=list(registration.warnings),
            )
        )
    return outcomes
