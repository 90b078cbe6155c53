"""Pydantic models of origins (create, change, read) and of their ingestion log."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from leadsite.api.schemas import OriginOut

OriginKindName = Literal["api", "page", "embed", "backoffice", "import"]
Outcome = Literal["created", "updated", "rejected", "error"]
MAPPING_DESCRIPTION = (
    "API origins only: target -> JMESPath expression over the posted JSON. Targets: a lead field "
    "(`email`, `phone`, `first_name`, `last_name`, `name`, `address`, `unique_id`, `status`, "
    "`source`, `source_url`, `referrer`, `country_code`, `tags`, `opt_in`, `sms_opt_in`, "
    "`redirect_url`, `utm_*`), `data.<data point>` or `custom.<key>`."
)


class OriginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: OriginKindName = "api"
    name: str = Field(min_length=1, max_length=120)
    allowed_domains: list[str] = Field(default_factory=list, max_length=50)
    redirect_url: str | None = Field(None, max_length=2000)
    success_message: str | None = Field(None, max_length=2000)
    mapping: dict[str, str] | None = Field(None, description=MAPPING_DESCRIPTION)
    active: bool = True


class OriginPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=120)
    allowed_domains: list[str] | None = Field(None, max_length=50)
    redirect_url: str | None = Field(None, max_length=2000)
    success_message: str | None = Field(None, max_length=2000)
    mapping: dict[str, str] | None = Field(
        None, description=MAPPING_DESCRIPTION + " `null` or `{}` removes the mapping."
    )
    active: bool | None = None
    rotate_hook_secret: bool = Field(
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
