"""The registration pipeline: every door builds `LeadInput`s and calls `register_many()`, or
`register()`, a batch of one."""

from leadsite.registration.batch import register_many
from leadsite.registration.errors import (
    Conflict,
    Duplicate,
    FieldError,
    FunnelClosed,
    LeadNotFound,
    NotFound,
    RegistrationError,
    ValidationFailed,
    shown_value,
)
from leadsite.registration.inputs import (
    NOTIFICATIONS,
    JourneyDataInput,
    LeadInput,
    LeadRequest,
    RegistrationContext,
    WebhookInput,
)
from leadsite.registration.outcome import Outcome
from leadsite.registration.pipeline import Registration, check_open, register

__all__ = [
    "NOTIFICATIONS",
    "Conflict",
    "Duplicate",
    "FieldError",
    "FunnelClosed",
    "JourneyDataInput",
    "LeadInput",
    "LeadNotFound",
    "LeadRequest",
    "NotFound",
    "Outcome",
    "Registration",
    "RegistrationContext",
    "RegistrationError",
    "ValidationFailed",
    "WebhookInput",
    "check_open",
    "register",
    "register_many",
    "shown_value",
]
