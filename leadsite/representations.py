"""Plain-dict views of the models: what the API returns and what webhooks carry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from leadsite.models import UTM_FIELDS, Journey, JourneyStatus, JourneyStep, Lead


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def journey_url(journey: Journey) -> str:
    """The lead's own page for this journey."""
    return f"{current_app.config['BASE_URL']}/j/{journey.access_token}"


def lead_dict(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "email": lead.email,
        "phone": lead.phone,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "address": lead.address,
        "unique_id": lead.unique_id,
        "status": lead.status,
        "tags": list(lead.tags or []),
        "custom_fields": dict(lead.custom_fields or {}),
        "source": lead.source,
        "source_url": lead.source_url,
        "referrer": lead.referrer,
        "utm": {name: getattr(lead, name) for name in UTM_FIELDS},
        "origin_id": lead.origin_id,
        "counter": lead.counter,
        "social_id": lead.social_id,
        "referred_by": lead.referred_by,
        "referrals": lead.referrals,
        "points": lead.points,
        "opt_in": lead.opt_in,
        "opt_in_at": iso(lead.opt_in_at),
        "sms_opt_in": lead.sms_opt_in,
        "opted_out": lead.opted_out_at is not None,
        "opted_out_at": iso(lead.opted_out_at),
        "confirmed": lead.confirmed_at is not None,
        "confirmed_at": iso(lead.confirmed_at),
        "erased": lead.erased_at is not None,
        "held": bool(lead.held),
        "created_at": iso(lead.created_at),
        "updated_at": iso(lead.updated_at),
    }


def journey_summary(journey: Journey) -> dict[str, Any]:
    """What a registration answers about the journey it generated."""
    return {
        "id": journey.id,
        "funnel_id": journey.funnel_id,
        "origin_id": journey.origin_id,
        "status": journey.status,
        "current_stage_id": journey.current_stage_id,
        "url": journey_url(journey),
        "url_valid_until": iso(journey.valid_until),
        "redirect_url": journey.redirect_url,
        "created_at": iso(journey.created_at),
        "completed_at": iso(journey.completed_at),
        # Its lead counts as converted in this funnel (leadsite.journeys.conversions).
        "converted": journey.status == JourneyStatus.COMPLETED,
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
