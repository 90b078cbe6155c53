"""What every door hands the pipeline: a `LeadInput` (what the lead sent) and a context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from leadsite import values


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
class LeadRequest:
    """A request the lead makes as they register (vcita's): an entry on their timeline."""

    title: Any
    message_data: Any = None
    request_data: Any = None
    system_message: Any = None


# What a registration may ask to be told, beyond the funnel's own notifications: a thank-you
# email to the lead, an email to the funnel's notify emails, a text to its SMS numbers.
NOTIFICATIONS = ("auto-reply", "email", "sms")


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
    points: Any = None  # contest points to add; only doors that authenticate the caller set it
    referral_code: Any = None  # the share code (`kid`) of the lead who referred this one
    # The identifier to match by instead of the funnel's (a dialect whose caller names it, as
    # vcita's `identifier_type` does); it is then the one required.
    match_by: str | None = None
    # Fields a new lead must have (an update may leave them out), e.g. vcita's first_name.
    required_for_new: tuple[str, ...] = ()
    request: LeadRequest | None = None
    notifications: Any = None  # a list (or comma-separated text) of NOTIFICATIONS
    language: Any = None  # the language the lead registers in (`leadsite.i18n.LANGUAGES`)


@dataclass
class RegistrationContext:
    """Facts about the request, recorded on the lead."""

    ip: str | None = None
    user_agent: str | None = None
    referrer: str | None = None
    actor_id: str | None = None  # the staff member, for back-office and import origins
    # A known lead is a `Duplicate` whatever the funnel's rule: the door asks before updating.
    reject_duplicates: bool = False
    # Called inside the registration's transaction, once its rows are written and before the
    # commit, with the lead's id and whether it was created: a door adds its own row (its
    # ingestion log entry) to the same commit instead of taking the write lock again.
    on_written: Callable[[str, bool], None] | None = None

    def __post_init__(self) -> None:
        # Every door makes one, from headers a client chooses; the lead's columns are bounded
        # (PostgreSQL refuses longer text): an address that is not one is not recorded.
        try:
            self.ip = values.ip_address(self.ip)
        except values.Invalid:
            self.ip = None
        self.user_agent = values.clipped(self.user_agent, 500)
        self.referrer = values.clipped(self.referrer, 2000)
