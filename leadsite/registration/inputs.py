"""What every door hands the pipeline: a `LeadInput` (what the lead sent) and a context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JourneyDataInput:
    name: Any
    value: Any


@dataclass
class WebhookInput:
    url: Any
    events: Any = None
    secret: Any = None


@dataclass
class LeadInput:
    """Raw values as received; `register()` validates and normalizes them all at once."""

    email: Any = None
    phone: Any = None
    first_name: Any = None
    last_name: Any = None
    address: Any = None
    unique_id: Any = None
    status: Any = None
    source: Any = None
    source_url: Any = None
    country_code: Any = None
    tags: Any = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    utm: dict[str, Any] = field(default_factory=dict)
    opt_in: Any = None
    sms_opt_in: Any = None
    consent: dict[str, Any] | None = None
    redirect_url: Any = None
    journey_data: list[JourneyDataInput] = field(default_factory=list)
    webhook: WebhookInput | None = None
    must_exist: bool = False
    do_not_reset_opt_out: bool = False


@dataclass
class RegistrationContext:
    """Facts about the request, recorded on the lead."""

    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    actor_id: str | None = None  # the staff member, for back-office and import origins
    # Called inside the registration's transaction, once its rows are written and before the
    # commit, with the lead's id and whether it was created: a door adds its own row (its
    # ingestion log entry) to the same commit instead of taking the write lock again.
    on_written: Callable[[str, bool], None] | None = None
