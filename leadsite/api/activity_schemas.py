"""Pydantic models of a stage's activities (add, change, read) for the funnels API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from leadsite.models import ActivityKind

CONFIG_DESCRIPTION = (
    'The kind\'s settings, e.g. `email_lead`: `{"subject", "body"}` (Jinja text reading '
    "`lead.<field>`, `data.<data point>`, `journey_url`, `funnel`: an unknown variable is "
    'refused, naming what was probably meant); `webhook`: `{"url"}`; `wait`: `{"days": N}`.'
)


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ActivityKind
    title: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict, description=CONFIG_DESCRIPTION)


class ActivityPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Left out: kept; null is refused (an activity always has a title).
    title: str = Field(None, min_length=1, max_length=200)
    config: dict[str, Any] | None = Field(None, description=CONFIG_DESCRIPTION)


class ActivityOut(BaseModel):
    id: str
    stage_id: str
    position: int
    kind: str
    title: str
    config: dict[str, Any]


class ActivityResponse(BaseModel):
    success: Literal[True]
    data: ActivityOut
