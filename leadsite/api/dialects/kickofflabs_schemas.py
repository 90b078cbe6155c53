"""The KickoffLabs dialect's request and lead payload, as pydantic models for OpenAPI."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from leadsite.api.schemas import Flag, StringOrNumber, Utm


class KickoffLabsBody(BaseModel):
    """A KickoffLabs "create or update a lead" request, JSON or form-encoded (parameters may
    also come in the query string). `email` or `phone_number` is required. Parameters not
    listed become custom fields (lower-cased); `_`-prefixed ones and ids such as `list_id` are
    dropped, `utm_*` fill the lead's UTM fields."""

    model_config = ConfigDict(
        extra="allow",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "phone_number": "+12065550100",
                    "first_name": "Ada",
                    "company": "Example Co",
                }
            ]
        },
    )

    api_key: str | None = Field(None, description="Your API key (or send it as a header).")
    email: str | None = Field(None, json_schema_extra={"format": "email"})
    phone_number: StringOrNumber = None
    country_code: StringOrNumber = Field(
        None, description="A calling code (`1`, `+44`) put before the phone number, or a region."
    )
    first_name: str | None = None
    last_name: str | None = None
    ip: str | None = Field(None, description="The lead's IP address; default: the caller's.")
    url: str | None = Field(
        None, alias="__url", description="The signup page; its query is merged into the data."
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
    redirect_url: str | None = Field(None, json_schema_extra={"format": "uri"})
    points: StringOrNumber = Field(None, description="Contest points to add (API key only).")
    social_id: str | None = Field(None, description="The share code of the referring lead.")
    kid: str | None = Field(None, description="The same, as share URLs carry it.")


class KickoffLabsLead(BaseModel):
    """A lead in KickoffLabs' names. With `__skip_urls=1` the URL fields are left out."""

    id: str
    email: str | None
    phone_number: str | None
    given_name: str | None
    family_name: str | None
    counter: int
    custom_fields: dict[str, Any]
    social_id: str | None = Field(description="The lead's share code (`kid` in share URLs).")
    social_url: str | None = Field(None, description="The lead's share URL.")
    referrals: int
    contest_score: int = Field(description="Points.")
    redirect_url: str | None = None
    url: str | None = Field(None, description="The lead's own page (their journey).")
    opted_out: bool
    tags: list[str]
    utm: Utm
    ip: str | None
    referrer: str | None
    uid: str | None
    unsubscribe_url: str | None = None
    created: bool = Field(description="Whether this request created the lead.")
