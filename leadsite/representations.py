"""Plain-dict views of the models: what the API returns and what webhooks carry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import inspect

from leadsite.models import UTM_FIELDS, Journey, JourneyStatus, JourneyStep, Lead


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def journey_url(journey: Journey) -> str:
    """The lead's own page for this journey."""
    return f"{current_app.config['BASE_URL']}/j/{journey.access_token}"


def columns_of(obj: Any) -> Callable[[str], Any]:
    """How to read `obj`'s column values by name, what `getattr` gives, for a dict of many.

    The values loaded or set are the object's own (`__dict__`); the attribute (which loads
    what is not loaded yet) is read only for the others, and on an object with no row yet
    (transient or pending) not at all: a column never set is None, what the attribute would
    give after its lookup of loaders and defaults (`analytics.rollup._values` reads journeys
    the same way). An import chunk's events make these dicts for every new lead and journey,
    and the attributes were half of their cost."""
    state = inspect(obj, raiseerr=False)
    if state is None:  # not a mapped object
        return lambda name: getattr(obj, name)
    values = obj.__dict__
    if state.key is None:
        return values.get

    def read(name: str) -> Any:
        return values[name] if name in values else getattr(obj, name)

    return read


def lead_dict(lead: Lead) -> dict[str, Any]:
    get = columns_of(lead)
    return {
        "id": get("id"),
        "email": get("email"),
        "phone": get("phone"),
        "first_name": get("first_name"),
        "last_name": get("last_name"),
        "address": get("address"),
        "unique_id": get("unique_id"),
        "status": get("status"),
        "tags": list(get("tags") or []),
        "custom_fields": dict(get("custom_fields") or {}),
        "source": get("source"),
        "source_url": get("source_url"),
        "referrer": get("referrer"),
        "utm": {name: get(name) for name in UTM_FIELDS},
        "origin_id": get("origin_id"),
        "counter": get("counter"),
        "social_id": get("social_id"),
        "referred_by": get("referred_by"),
        "referrals": get("referrals"),
        "points": get("points"),
        "opt_in": get("opt_in"),
        "opt_in_at": iso(get("opt_in_at")),
        "sms_opt_in": get("sms_opt_in"),
        "opted_out": get("opted_out_at") is not None,
        "opted_out_at": iso(get("opted_out_at")),
        "confirmed": get("confirmed_at") is not None,
        "confirmed_at": iso(get("confirmed_at")),
        "erased": get("erased_at") is not None,
        "held": bool(get("held")),
        "created_at": iso(get("created_at")),
        "updated_at": iso(get("updated_at")),
    }


def journey_summary(journey: Journey) -> dict[str, Any]:
    """What a registration answers about the journey it generated."""
    get = columns_of(journey)
    status = get("status")
    return {
        "id": get("id"),
        "funnel_id": get("funnel_id"),
        "origin_id": get("origin_id"),
        "status": status,
        "current_stage_id": get("current_stage_id"),
        "url": journey_url(journey),
        "url_valid_until": iso(get("valid_until")),
        "redirect_url": get("redirect_url"),
        "created_at": iso(get("created_at")),
        "completed_at": iso(get("completed_at")),
        # Its lead counts as converted in this funnel (leadsite.journeys.conversions).
        "converted": status == JourneyStatus.COMPLETED,
    }


def step_dict(step: JourneyStep) -> dict[str, Any]:
    return {
        "id": step.id,
        "activity_id": step.activity_id,
        "stage_id": step.stage_id,
        "kind": step.kind,
        "title": step.title,
        "status": step.status,
        "due_at": iso(step.due_at),
        "done_at": iso(step.done_at),
    }


def journey_dict(journey: Journey) -> dict[str, Any]:
    """The whole journey: its summary, steps and data."""
    return {
        **journey_summary(journey),
        "lead_id": journey.lead_id,
        "steps": [step_dict(step) for step in journey.steps],
        "data": {item.data_point.name: item.value for item in journey.data},
    }
