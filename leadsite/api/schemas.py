"""Pydantic models: they validate API request bodies and generate the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, WithJsonSchema

from leadsite.models import DataPointType, JourneyStatus, StepStatus
from leadsite.outbox.event_types import WEBHOOK_EVENTS
from leadsite.values import FALSE_WORDS, TRUE_WORDS

JourneyStatusText = Annotated[
    str, WithJsonSchema({"type": "string", "enum": [s.value for s in JourneyStatus]})
]
StepStatusText = Annotated[
    str, WithJsonSchema({"type": "string", "enum": [s.value for s in StepStatus]})
]
# Shapes the pipeline checks itself (it reports every problem with its field); documented here.
StringOrNumber = Annotated[Any, WithJsonSchema({"type": ["string", "integer", "null"]})]
Tags = Annotated[
    Any,
    WithJsonSchema(
        {
            "description": "A list of tags, or one comma-separated string "
            "(at most 20 tags of 50 characters).",
            "anyOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "string"},
                {"type": "null"},
            ],
        }
    ),
]
JourneyDataField = Annotated[
    Any,
    WithJsonSchema(
        {
            "description": 'Values for the workspace\'s data points, as `[{"Name", "Value"}]` '
            "or as an object of name to value.",
            "anyOf": [
                {"type": "array", "items": {"$ref": "#/components/schemas/JourneyDataItem"}},
                {"type": "object", "additionalProperties": True},
                {"type": "null"},
            ],
        }
    ),
]


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


# The words `values.boolean` reads, in any case, around spaces.
FLAG_WORDS = "|".join(_any_case(word) for word in sorted(TRUE_WORDS | FALSE_WORDS) if word)
Flag = Annotated[
    Any,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "boolean"},
                {"type": "integer", "enum": [0, 1]},
                {"type": "string", "pattern": rf"^\s*(?:{FLAG_WORDS})?\s*$"},
                {"type": "null"},
            ],
            "description": "true/false, 1/0, yes/no, y/n, on/off, checked; empty: false",
        }
    ),
]


IpAddress = Annotated[
    str | None,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "ipv4"},
                {"type": "string", "format": "ipv6"},
                {"type": "string", "maxLength": 0},
                {"type": "null"},
            ],
            "description": "The lead's IP address; default: the caller's.",
        }
    ),
]


class JourneyDataItem(BaseModel):
    Name: str
    Value: Any = None


# The patterns below are the document's (`json_schema_extra`): the views check the values
# themselves, with messages that say what to write.
# An absolute http(s) URL as `values.parse_url` takes it: scheme (any case), host name, port
# from 1 to 65535, then no control character. A webhook's must also be a public address
# (unless the server allows private ones), which no pattern says.
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
HTTP_URL = (
    rf"^\s*[Hh][Tt][Tt][Pp][Ss]?://{_LABEL}(?:\.{_LABEL})*\.?(?::{_PORT})?"
    r"(?:[/?#][^\x00-\x1f\x7f]*)?\s*$"
)
# Where an empty text means none.
HTTP_URL_OR_EMPTY = rf"^\s*$|{HTTP_URL}"
WEBHOOK_URL = HTTP_URL
# A text with no blank at either end and no line break, read alike by the document's readers
# (ECMAScript regexes) and by pydantic (Rust's): their `\s` and `.` differ (U+0085 is a blank
# to Rust, U+FEFF to ECMAScript; `.` refuses `\r` in ECMAScript only), so the blanks are named.
_NOT_BLANK = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
NO_BLANK_ENDS = rf"^{_NOT_BLANK}(?:[^\n]*{_NOT_BLANK})?$"
# A region as `values.region` reads it (which regions exist, no pattern says).
REGION = r"^\s*(?:[A-Za-z]{2})?\s*$"


class WebhookInputBody(BaseModel):
    """Where to send this lead's events (keys matched ignoring case: `Url`, `url`)."""

    url: str = Field(json_schema_extra={"pattern": WEBHOOK_URL})
    events: list[Annotated[str, WithJsonSchema({"enum": list(WEBHOOK_EVENTS)})]] | None = None
    secret: str | None = None


class RegistrationBody(BaseModel):
    """A lead registration. Keys are matched ignoring case, `_` and `-` (`Email`, `email`;
    `Firstname`, `first_name`, `firstName`; `PhoneNumber`, `phone`). Other keys become custom
    fields; `utm_*` keys fill the lead's UTM fields; `__url`, `__source`, `__referrer`, `__uid`
    and `__do_not_reset_opt_out` are controls."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "Email": "johndoe@gmail.com",
                    "Firstname": "John",
                    "Lastname": "Doe",
                    "PhoneNumber": "+1 (800) 555-0175",
                    "RedirectURL": "https://www.myapp.com",
                    "JourneyData": [{"Name": "company", "Value": "Example Co"}],
                }
            ]
        },
    )

    email: str | None = Field(None, json_schema_extra={"format": "email"})
    phone: StringOrNumber = None
    first_name: str | None = Field(None, json_schema_extra={"maxLength": 100})
    last_name: str | None = Field(None, json_schema_extra={"maxLength": 100})
    name: str | None = Field(None, description="Full name; split into first and last name.")
    address: str | None = None
    unique_id: StringOrNumber = None
    status: str | None = Field(
        None, description="One of the workspace's status keys (Settings, Statuses); others: 422."
    )
    source: str | None = None
    source_url: str | None = Field(
        None,
        description="The page the lead signed up on (`__url`).",
        json_schema_extra={"pattern": HTTP_URL_OR_EMPTY},
    )
    language: str | None = Field(
        None,
        description="The language the lead speaks: `en`, `de`, `fr` or `es` (`de-AT` is `de`). "
        "Their journey page and emails use it; default: English.",
    )
    referrer: str | None = None
    ip: IpAddress = None
    tags: Tags = None
    metadata: dict[str, Any] | None = Field(None, description="Merged into custom fields.")
    custom_fields: dict[str, Any] = Field(
        default_factory=dict, description="Custom fields; any key not listed here is one too."
    )
    utm: dict[str, Any] | None = None
    opt_in: Flag = None
    sms_opt_in: Flag = None
    country_code: str | None = Field(
        None,
        description="Reads phone numbers without +country.",
        json_schema_extra={"pattern": REGION},
    )
    must_exist: Flag = None
    do_not_reset_opt_out: Flag = None
    redirect_url: str | None = Field(None, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY})
    journey_data: JourneyDataField = None
    webhook_input: WebhookInputBody | None = None
    consent: dict[str, Any] | None = None
    referral_code: str | None = Field(
        None, description="The share code of the lead who referred this one (`kid`, `social_id`)."
    )


class FieldErrorOut(BaseModel):
    field: str | None
    value: Any = None
    message: str


class ErrorResponse(BaseModel):
    success: Literal[False]
    error: str
    code: str
    details: dict[str, Any]
    errors: list[FieldErrorOut]


class Utm(BaseModel):
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    utm_term: str | None
    utm_content: str | None


class JourneySummaryOut(BaseModel):
    id: str
    funnel_id: str
    origin_id: str | None
    # `awaiting`: double opt-in, not started until the lead confirms their email.
    status: JourneyStatusText
    current_stage_id: str | None
    url: str = Field(description="The lead's own journey page.")
    url_valid_until: str | None
    redirect_url: str | None
    created_at: str | None
    completed_at: str | None = Field(
        description="When every step was done or skipped; null while it runs, or if cancelled."
    )
    converted: bool = Field(
        description="The journey is completed: its lead counts as converted in this funnel "
        "(a cancelled journey is not)."
    )


class LeadOut(BaseModel):
    id: str
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    address: str | None
    unique_id: str | None
    status: str
    tags: list[str]
    custom_fields: dict[str, Any]
    source: str | None
    source_url: str | None
    referrer: str | None
    utm: Utm
    origin_id: str | None
    counter: int
    social_id: str | None = Field(description="The lead's share code (`kid` in share URLs).")
    referred_by: str | None = Field(description="The id of the lead who referred this one.")
    referrals: int = Field(description="How many leads this one referred.")
    points: int = Field(description="Contest score.")
    opt_in: bool
    opt_in_at: str | None
    sms_opt_in: bool
    opted_out: bool
    opted_out_at: str | None
    confirmed: bool
    confirmed_at: str | None
    erased: bool
    held: bool
    created_at: str | None
    updated_at: str | None


class LeadWithJourney(LeadOut):
    journey: JourneySummaryOut


class LeadRead(LeadOut):
    converted_funnels: list[str] = Field(
        description="Ids of the funnels this lead converted in: its journey there is completed "
        "(each journey's `completed_at` says when)."
    )


class LeadWithJourneys(LeadRead):
    journeys: list[JourneySummaryOut]


class RegistrationWarning(BaseModel):
    """An identifier the registration was given but could not store: another lead holds it."""

    code: str
    field: str
    value: str
    message: str
    existingLeadId: str | None


class RegistrationResponse(BaseModel):
    success: Literal[True]
    created: bool
    data: LeadWithJourney
    warnings: list[RegistrationWarning] = Field(
        description="Identifiers given but not stored, e.g. a phone another lead holds."
    )


MAX_BATCH = 500


# Any item is taken: one that is not a registration body is rejected on its own, in its result,
# and the others go on (the batch answers 200).
BatchItem = Annotated[
    Any,
    WithJsonSchema(
        {
            "description": "A registration: the single endpoint's JSON body "
            "(`RegistrationBody`). An item that is not one is rejected in its own result."
        }
    ),
]


class BatchBody(RootModel[list[BatchItem]]):
    """Up to 500 registrations, each the single endpoint's JSON body (`RegistrationBody`)."""

    root: list[BatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class BatchItemOut(BaseModel):
    """What became of one registration of the batch, by its place in the array."""

    index: int
    status: Literal["created", "updated", "rejected"]
    code: str | None = Field(
        description="Why it was rejected: the single endpoint's error code (`VALIDATION_ERROR`, "
        "`DUPLICATE_EMAIL`, ...); null otherwise."
    )
    lead_id: str | None
    created: bool
    message: str | None = None
    existingLeadId: str | None = None
    errors: list[FieldErrorOut]
    warnings: list[RegistrationWarning]


class BatchCounts(BaseModel):
    created: int
    updated: int
    rejected: int


class BatchResponse(BaseModel):
    success: Literal[True]
    data: list[BatchItemOut]
    counts: BatchCounts


class LeadResponse(BaseModel):
    success: Literal[True]
    data: LeadWithJourneys


class LeadListResponse(BaseModel):
    success: Literal[True]
    data: list[LeadRead]
    has_more: bool
    next_cursor: str | None


class LeadPatch(BaseModel):
    """Fields to change; leave a key out to keep its value, send null to clear it."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    phone: StringOrNumber = None
    unique_id: StringOrNumber = None
    first_name: str | None = None
    last_name: str | None = None
    address: str | None = None
    # Not nullable: a lead always has a status.
    status: str = Field(
        None,
        json_schema_extra={"pattern": r"\S"},  # checked by the pipeline, with its message
        description="One of the workspace's status keys (Settings, Statuses); others: 422.",
    )
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    # Not nullable: a lead is opted in or not, there is no "unknown" to clear to.
    opt_in: bool = Field(None, description="true or false (null is refused)")
    sms_opt_in: bool = Field(None, description="true or false (null is refused)")
    country_code: str | None = None


class StepOut(BaseModel):
    id: str
    activity_id: str | None
    stage_id: str | None
    kind: str
    title: str
    # `waiting`: a webhook step whose delivery has not been answered 2xx yet.
    status: StepStatusText
    due_at: str | None
    done_at: str | None


class JourneyOut(JourneySummaryOut):
    lead_id: str
    completed_at: str | None
    steps: list[StepOut]
    data: dict[str, Any]


class JourneyResponse(BaseModel):
    success: Literal[True]
    data: JourneyOut


class OriginOut(BaseModel):
    id: str
    kind: str
    name: str
    ref: str
    active: bool
    allowed_domains: list[str]
    redirect_url: str | None
    mapping: dict[str, str] | None = Field(
        None, description="API origins: lead field, `data.<point>` or `custom.<key>` to JMESPath"
    )
    hook_url: str | None = Field(
        None, description="API origins: the inbound URL for senders that post their own JSON"
    )


class ActivityOut(BaseModel):
    id: str
    kind: str
    title: str
    config: dict[str, Any]


class BranchOut(BaseModel):
    condition: dict[str, Any] | None
    to: str = Field(description="A later stage's id, or `end`")
    label: str | None = None


class StageOut(BaseModel):
    id: str
    name: str
    position: int
    condition: dict[str, Any] | None
    decisions: list[BranchOut] = Field(
        description="When the stage is finished, the first branch whose condition holds sends "
        "the journey to its stage (entered whatever its own condition), or ends it"
    )
    otherwise: str | None = Field(
        description="A stage id or `end` when no branch holds; null: the next stage in order "
        "whose condition holds"
    )
    activities: list[ActivityOut]


class FunnelOut(BaseModel):
    id: str
    name: str
    description: str | None
    status: str
    starts_at: str | None
    ends_at: str | None
    identifier: str
    on_duplicate: str
    double_opt_in: bool
    origins: list[OriginOut]
    created_at: str | None


class FunnelDetailOut(FunnelOut):
    stages: list[StageOut]


class FunnelListResponse(BaseModel):
    success: Literal[True]
    data: list[FunnelOut]


class FunnelResponse(BaseModel):
    success: Literal[True]
    data: FunnelDetailOut


class DataPointIn(BaseModel):
    # A choice data point is refused without its choices.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"type": {"const": "choice"}}, "required": ["type"]},
            "then": {"properties": {"choices": {"minItems": 1}}, "required": ["choices"]},
        },
    )

    name: str = Field(min_length=1, max_length=64, pattern=NO_BLANK_ENDS)
    label: str | None = Field(None, max_length=120)
    type: DataPointType = DataPointType.TEXT
    choices: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    help_text: str | None = Field(None, max_length=300)


class DataPointPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(None, max_length=120)
    choices: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=100
    )
    help_text: str | None = Field(None, max_length=300)
    archived: StrictBool | None = Field(
        None, description="`true` archives it (kept, offered in no new form); `false` restores it."
    )


class DataPointOut(BaseModel):
    id: str
    name: str
    label: str
    type: str
    choices: list[str]
    help_text: str | None
    archived: bool
    archived_at: str | None
    created_at: str | None


class DataPointResponse(BaseModel):
    success: Literal[True]
    data: DataPointOut


class DataPointListResponse(BaseModel):
    success: Literal[True]
    data: list[DataPointOut]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000, json_schema_extra={"pattern": WEBHOOK_URL})
    events: list[Literal[WEBHOOK_EVENTS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(WEBHOOK_EVENTS), min_length=1
    )
    description: str | None = Field(None, max_length=200)
    active: StrictBool = True


class WebhookPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2000, json_schema_extra={"pattern": WEBHOOK_URL})
    events: list[Literal[WEBHOOK_EVENTS]] | None = Field(None, min_length=1)  # type: ignore[valid-type]
    description: str | None = Field(None, max_length=200)
    active: StrictBool | None = None


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    disabled_reason: str | None
    created_at: str | None


class WebhookCreatedOut(WebhookOut):
    secret: str = Field(description="Shown once: signs every delivery (Standard Webhooks).")


class WebhookResponse(BaseModel):
    success: Literal[True]
    data: WebhookOut


class WebhookCreatedResponse(BaseModel):
    success: Literal[True]
    data: WebhookCreatedOut


class WebhookListResponse(BaseModel):
    success: Literal[True]
    data: list[WebhookOut]


class DeliveryAttemptOut(BaseModel):
    id: str
    message_id: str
    endpoint_id: str | None
    lead_id: str | None
    channel: str
    target: str
    attempted_at: str | None
    duration_ms: int
    success: bool
    status_code: int | None
    error: str | None
    request_excerpt: str | None
    response_excerpt: str | None


class DeliveryListResponse(BaseModel):
    success: Literal[True]
    data: list[DeliveryAttemptOut]


class MessageOut(BaseModel):
    id: str
    channel: str
    target: str
    status: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    delivered_at: str | None
    created_at: str | None


class MessageResponse(BaseModel):
    success: Literal[True]
    data: MessageOut


class SecretOut(BaseModel):
    id: str
    secret: str
    previous_secret_valid_until: str | None


class SecretResponse(BaseModel):
    success: Literal[True]
    data: SecretOut
