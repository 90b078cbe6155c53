"""The registration pipeline: every door builds a `LeadInput` and calls `register()`."""

from leadsite.registration.errors import (
    Conflict,
    Duplicate,
    FieldError,
    FunnelClosed,
    LeadNotFound,
    NotFound,
    RegistrationError,
    ValidationFailed,
)
from leadsite.registration.inputs import (
    NOTIFICATIONS,
    JourneyDataInput,
    LeadInput,
    LeadRequest,
    RegistrationContext,
    WebhookInput,
)
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
    "Registration",
    "RegistrationContext",
    "RegistrationError",
    "ValidationFailed",
    "WebhookInput",
    "check_open",
    "register",
]
