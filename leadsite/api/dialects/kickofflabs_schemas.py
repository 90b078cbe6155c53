"""The KickoffLabs dialect's request and lead payload: pydantic models for OpenAPI, and the
payload made from a lead."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from leadsite.api.schemas import HTTP_URL_OR_EMPTY, Flag, IpAddress, StringOrNumber, Utm
from leadsite.extensions import db
from leadsite.journeys.emails import unsubscribe_url
from leadsite.models import UTM_FIELDS, Journey, Lead, Origin, OriginKind
from leadsite.registration.referrals import MAX_POINTS, share_url
from leadsite.representations import journey_url

# What `_prepend_calling_code` and `values.region` read.
CALLING_CODE_OR_REGION = Annotated[
    Any,
    WithJsonSchema(
        {
            "description": "A calling code (`1`, `+44`) put before the phone number, or a region.",
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 9999},
                {"type": "string", "pattern": r"^\s*(?:\+?\d{1,4}|[A-Za-z]{2})?\s*$"},
                {"type": "null"},
            ],
        }
    ),
]
# `referrals.points`: a whole number, as a number or a text.
Points = Annotated[
    Any,
    WithJsonSchema(
        {
            "description": "Contest points to add (API key only).",
            "anyOf": [
                {"type": "integer", "minimum": -MAX_POINTS, "maximum": MAX_POINTS},
                {"type": "string", "pattern": r"^(?:\s*[+-]?\d{1,6}\s*)?$"},
                {"type": "null"},
            ],
        }
    ),
]


class KickoffLabsBody(BaseModel):
    """A KickoffLabs "create or update a lead" request, JSON or form-encoded (parameters may
    also come in the query string). `email` or `phone_number` is required. Parameters not
    listed become custom fields (lower-cased); `_`-prefixed ones and ids such as `list_id` are
    dropped, `utm_*` fill the lead's UTM fields."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra={
            # At least one of them, not empty (the query string may carry them instead).
            "anyOf": [
                {
                    "required": ["email"],
                    "properties": {"email": {"type": "string", "pattern": r"\S"}},
                },
                {
                    "required": ["phone_number"],
                    "properties": {
                        "phone_number": {"type": ["string", "integer"], "pattern": r"\S"}
                    },
                },
            ],
            "examples": [
                {
                    "email": "ada@example.com",
                    "phone_number": "+12065550100",
                    "first_name": "Ada",
                    "company": "Example Co",
                }
            ],
        },
    )

    api_key: str | None = Field(None, description="Your API key (or send it as a header).")
    email: str | None = Field(None, json_schema_extra={"format": "email"})
    phone_number: StringOrNumber = None
    country_code: CALLING_CODE_OR_REGION = None
    first_name: str | None = Field(None, json_schema_extra={"maxLength": 100})
    last_name: str | None = Field(None, json_schema_extra={"maxLength": 100})
    ip: IpAddress = None
    url: str | None = Field(
        None,
        alias="__url",
        description="The signup page; its query is merged into the data.",
        json_schema_extra={"pattern": HTTP_URL_OR_EMPTY},
    )
    referrer_: str | None = Field(None, alias="__referrer")
    referrer: str | None = Field(None, description="Older name of `__referrer`.")
    source: str | None = Field(None, alias="__source", description="`source.id`, e.g. `modal.1`")
    uid: StringOrNumber = Field(None, alias="__uid", description="Your own id of the lead.")
    sid: str | None = Field(None, alias="__sid", description="Session id (accepted, not kept).")
    session_id: str | None = Field(None, alias="__session_id")
    rid: str | None = Field(None, alias="__rid", description="Request id (accepted, not kept).")
    skip_urls: Flag = Field(None, alias="__skip_urls", description="Leave URLs out of the answer.")
    skip_actions: Flag = Field(None, alias="__skip_actions")
    do_not_reset_opt_out: Flag = Field(None, alias="__do_not_reset_opt_out")
    must_exist: Flag = Field(None, description="Only update an existing lead.")
    redirect_url: str | None = Field(None, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY})
    points: Points = None
    social_id: str | None = Field(None, description="The share code of the referring lead.")
    kid: str | None = Field(None, description="The same, as share URLs carry it.")


class KickoffLabsLead(BaseModel):
    """A lead in KickoffLabs' names. With `__skip_urls=1` the URL fields are left out. A keyless
    call that updated a known lead gets only its share fields (`id`, `social_id`, `social_url`,
    `referrals`, `contest_score`, `redirect_url`, `created`): a stranger's form must not read
    what someone else registered."""

    id: str
    email: str | None = None
    phone_number: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    counter: int | None = None
    custom_fields: dict[str, Any] | None = None
    social_id: str | None = Field(description="The lead's share code (`kid` in share URLs).")
    social_url: str | None = Field(None, description="The lead's share URL.")
    referrals: int
    contest_score: int = Field(description="Points.")
    redirect_url: str | None = None
    url: str | None = Field(None, description="The lead's own page (their journey).")
    opted_out: bool | None = None
    tags: list[str] | None = None
    utm: Utm | None = None
    ip: str | None = None
    referrer: str | None = None
    uid: str | None = None
    unsubscribe_url: str | None = None
    created: bool = Field(description="Whether this request created the lead.")


# What a keyless call that matched a known lead is answered.
SHARE_FIELDS = ("id", "social_id", "social_url", "referrals", "contest_score", "redirect_url")


def page_ref(lead: Lead, origin: Origin) -> str | None:
    """The hosted page a share URL points at when the lead signed up on no page of their own:
    the lead's first origin if it is one, else the funnel's first active one."""
    first = db.session.get(Origin, lead.origin_id) if lead.origin_id else None
    if first is not None and first.kind == OriginKind.PAGE and first.active:
        return first.ref
    return db.session.scalar(
        db.select(Origin.ref)
        .filter_by(funnel_id=origin.funnel_id, kind=OriginKind.PAGE, active=True)
        .order_by(Origin.created_at, Origin.id)
        .limit(1)
    )


def lead_payload(
    lead: Lead,
    journey: Journey | None,
    origin: Origin,
    created: bool,
    skip_urls: bool,
    share_only: bool = False,
) -> dict[str, object]:
    """The lead in KickoffLabs' names; with `share_only`, its share fields alone."""
    payload: dict[str, object] = {
        "id": lead.id,
        "email": lead.email,
        "phone_number": lead.phone,
        "given_name": lead.first_name,
        "family_name": lead.last_name,
        "counter": lead.counter,
        "custom_fields": dict(lead.custom_fields or {}),
        "social_id": lead.social_id,
        "referrals": lead.referrals,
        "contest_score": lead.points,
        "opted_out": lead.opted_out_at is not None,
        "tags": list(lead.tags or []),
        "utm": {name: getattr(lead, name) for name in UTM_FIELDS},
        "ip": lead.ip,
        "referrer": lead.referrer,
        "uid": lead.unique_id,
        "created": created,
    }
    if not skip_urls:
        payload["social_url"] = share_url(lead, None if lead.source_url else page_ref(lead, origin))
        payload["redirect_url"] = (journey.redirect_url if journey else None) or origin.redirect_url
        payload["url"] = journey_url(journey) if journey else None
        payload["unsubscribe_url"] = unsubscribe_url(lead)
    if share_only:
        return {key: payload[key] for key in (*SHARE_FIELDS, "created") if key in payload}
    return payload
