"""The shape of `GET /api/v1/funnels/<id>/analytics`, for the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FormCountsOut(BaseModel):
    view: int
    start: int
    submit: int
    held: int = Field(description="Judged a bot's and held for staff")
    invalid: int = Field(description="Refused by validation")
    registered_new: int
    registered_returning: int
    confirmed: int = Field(description="Double opt-in confirmed")
    converted: int
    registrations: int = Field(description="registered_new + registered_returning")
    invalid_by_field: dict[str, int] = Field(description="Validation failures per field")


class OriginFormCountsOut(FormCountsOut):
    id: str
    name: str
    kind: str


class FormFunnelOut(BaseModel):
    total: FormCountsOut
    origins: list[OriginFormCountsOut] = Field(description="Origins with any count in range")


class StageOut(BaseModel):
    id: str
    name: str
    entered: int
    waiting: int = Field(description="Entered and not finished (a step due, waiting or failed)")
    completed: int
    skipped: int = Field(description="Passed over without being entered")
    next: dict[str, int] = Field(
        description="Where the journeys that completed the stage went: a stage id, `end`, "
        "`cancelled` or `not_yet`"
    )


class ActivityOut(BaseModel):
    id: str
    stage_id: str
    title: str
    kind: str
    reached: int = Field(description="Steps made due: their stage was entered")
    done: int
    skipped: int
    open: int
    overdue: int = Field(description="Open, due before today (UTC)")
    completion_rate: float | None = Field(description="done / reached")
    median_seconds: float | None = Field(description="From due to done, done steps")
    p90_seconds: float | None


class JourneyFunnelOut(BaseModel):
    registrations: int = Field(description="Journeys created in the range")
    converted: int = Field(description="Of those, journeys completed")
    conversion_rate: float | None
    median_seconds_to_convert: float | None
    by_status: dict[str, int]
    stages: list[StageOut]
    activities: list[ActivityOut]


class AttributionRowOut(BaseModel):
    value: str | None = Field(description="None: the registrations had none")
    label: str | None = Field(description="The origin's name, for the `origin` dimension")
    registrations: int
    conversions: int
    conversion_rate: float | None


class FunnelReportOut(BaseModel):
    funnel_id: str
    from_: str = Field(alias="from", description="First day (UTC), inclusive")
    to: str = Field(description="Last day (UTC), inclusive")
    origin: str | None
    form: FormFunnelOut
    journeys: JourneyFunnelOut
    attribution: dict[str, list[AttributionRowOut]] = Field(
        description="By origin, utm_source/medium/campaign (first touch), last_utm_* (last "
        "touch), referrer_host, last_referrer_host and share_code; 20 rows at most each"
    )


class FunnelReportResponse(BaseModel):
    success: Literal[True]
    data: FunnelReportOut
