"""Pydantic models of origins (create, change, read) and of their ingestion log."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from leadsite.api.mapping import LEAD_FIELDS, MAX_EXPRESSION, MAX_NAME, MAX_RULES
from leadsite.api.schemas import HTTP_URL_OR_EMPTY, OriginOut

OriginKindName = Literal["api", "page", "embed", "backoffice", "import"]
Outcome = Literal["created", "updated", "rejected", "error"]
# An allowed site starts with its scheme (`leadsite.backoffice.funnel_domains` checks the rest:
# host, port, where a `*` may go), in any case.
SITES = {"items": {"type": "string", "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://"}}
# What `api.mapping.check_mapping` takes: a lead field, `data.<name>` or `custom.<name>` (the
# target trimmed), to a JMESPath text (whether it parses, no schema says).
_TARGET = rf"{'|'.join(LEAD_FIELDS)}|(?:data|custom)\.\s*\S.{{0,{MAX_NAME - 1}}}"
MAPPING_SHAPE = {
    "maxProperties": MAX_RULES,
    "propertyNames": {"pattern": rf"^\s*(?:{_TARGET})\s*$"},
    "additionalProperties": {"type": "string", "pattern": r"\S", "maxLength": MAX_EXPRESSION},
}
MAPPING_DESCRIPTION = (
    "API origins only: target -> JMESPath expression over the posted JSON. Targets: a lead field "
    "(`email`, `phone`, `first_name`, `last_name`, `name`, `address`, `unique_id`, `status`, "
    "`source`, `source_url`, `referrer`, `country_code`, `tags`, `opt_in`, `sms_opt_in`, "
    "`redirect_url`, `utm_*`), `data.<data point>` or `custom.<key>`."
)


# Not only spaces (Python's: the view trims them, control separators \x1c-\x1f included).
NAMED = {"pattern": r"[^\s\x1c-\x1f\x85]"}


class OriginIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        # Only API origins take a mapping.
        json_schema_extra={
            "if": {"properties": {"kind": {"not": {"const": "api"}}}, "required": ["kind"]},
            "then": {
                "properties": {"mapping": {"anyOf": [{"type": "null"}, {"maxProperties": 0}]}}
            },
        },
    )

    kind: OriginKindName = "api"
    name: str = Field(min_length=1, max_length=120, json_schema_extra=NAMED)
    allowed_domains: list[str] = Field(default_factory=list, max_length=50, json_schema_extra=SITES)
    redirect_url: str | None = Field(
        None, max_length=2000, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY}
    )
    success_message: str | None = Field(None, max_length=2000)
    mapping: dict[str, str] | None = Field(
        None, description=MAPPING_DESCRIPTION, json_schema_extra=MAPPING_SHAPE
    )
    active: StrictBool = True


class OriginPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Left out: kept; null is refused for these three (an origin always has them).
    name: str = Field(None, min_length=1, max_length=120, json_schema_extra=NAMED)
    allowed_domains: list[str] = Field(None, max_length=50, json_schema_extra=SITES)
    redirect_url: str | None = Field(
        None, max_length=2000, json_schema_extra={"pattern": HTTP_URL_OR_EMPTY}
    )
    success_message: str | None = Field(None, max_length=2000)
    mapping: dict[str, str] | None = Field(
        None,
        description=MAPPING_DESCRIPTION + " `null` or `{}` removes the mapping.",
        json_schema_extra=MAPPING_SHAPE,
    )
    active: StrictBool = Field(None)
    rotate_hook_secret: StrictBool = Field(
        False, description="API origins: a new hook URL; the old one answers 404 from now on."
    )


class OriginDetailOut(OriginOut):
    funnel_id: str
    success_message: str | None
    created_at: str | None


class OriginResponse(BaseModel):
    success: Literal[True]
    data: OriginDetailOut


class LogFieldError(BaseModel):
    field: str
    message: str


class IngestionEntryOut(BaseModel):
    id: str
    at: str
    dialect: str = Field(description="The door or dialect the call came through")
    outcome: Outcome
    status: int = Field(description="The HTTP status it was answered")
    lead_id: str | None
    codes: list[str] = Field(description="Error codes, first the answer's own")
    message: str | None = Field(description="The error's message")
    errors: list[LogFieldError] = Field(description="Every field error of a refusal")
    method: str
    query: str | None = Field(description="The query string, secrets redacted")
    body: str | None = Field(description="The request body, secrets redacted")


class IngestionLogResponse(BaseModel):
    success: Literal[True]
    data: list[IngestionEntryOut]
    has_more: bool
    next_cursor: str | None
