"""What a registration writes, made in memory: the new lead or the update, the journey in its
first stage, its data, the WebhookInput, and the events with their outbox messages.

Nothing here writes. The new rows are collected in `NewRows` for `pipeline` to write with one
INSERT per table; a new lead is built before the write lock is taken, so that inside it a
registration only matches and writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect

from leadsite.analytics.touch import touch
from leadsite.extensions import db
from leadsite.journeys import funnel_plan, start_journey
from leadsite.journeys.confirmation import HELD, holds_for_confirmation
from leadsite.journeys.engine import enter_first_stage
from leadsite.journeys.plan import StagePlan
from leadsite.models import (
    Funnel,
    Journey,
    JourneyData,
    JourneyStatus,
    Lead,
    Origin,
    WebhookEndpoint,
)
from leadsite.models.base import made
from leadsite.models.rows import NewRows
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.registration.errors import Conflict
from leadsite.registration.inputs import RegistrationContext
from leadsite.registration.merge import new_lead
from leadsite.registration.validate import CleanLead
from leadsite.representations import journey_summary, lead_dict
from leadsite.values import phone_is_assigned


@dataclass
class Built:
    """A registration made in memory: its lead and journey, and the new rows to write."""

    lead: Lead
    journey: Journey
    created: bool
    rows: NewRows
    request_event_id: str | None = None  # the timeline entry of the lead's request


def build_new(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    plan: list[StagePlan] | None,
    conflicts: list[Conflict] | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> Built:
    """A new lead from the cleaned input, with everything `build` makes for it."""
    lead = new_lead(origin.workspace_id, origin.id, cleaned, context)
    return build(origin, funnel, cleaned, context, plan, lead, None, conflicts, endpoints)


def build(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    plan: list[StagePlan] | None,
    lead: Lead,
    journey: Journey | None,
    conflicts: list[Conflict] | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> Built:
    """The journey (when the lead has none in this funnel yet, generated and in its first
    stage), the journey data, the WebhookInput, and the events with their outbox messages: all
    in memory, the new rows collected to be written with one INSERT per table. Reads the
    workspace's webhook endpoints and the lead's (unless given: `endpoints`), and the funnel
    plan (unless given); writes nothing."""
    new_row = inspect(lead).transient
    # A held lead (registration.held) registering now is new to everyone who hears of it.
    created = new_row or lead.held
    if lead.held:
        lead.held, lead.held_submission = False, None
    rows = NewRows()
    if new_row:
        rows.add(lead)
    events = EventWriter(origin.workspace_id, lead.id, add=rows.add, endpoints=endpoints)
    events.endpoints()
    journey_created = journey is None
    if journey is None:
        plan = funnel_plan(funnel.id) if plan is None else plan
        journey = start_journey(lead, funnel, origin, plan)
        rows.add(journey)
    touch(journey, cleaned, context, first=journey_created)
    if cleaned.redirect_url:
        journey.redirect_url = cleaned.redirect_url
    _store_journey_data(journey, cleaned, journey_created, rows)
    if cleaned.webhook is not None:
        events.add_endpoint(_store_webhook_input(lead, cleaned, new_row, rows))
    summary = journey_summary(journey)
    lead_data = lead_dict(lead)
    lead_data["journey"] = summary
    lead_data["registration"] = _registration_facts(origin, cleaned, context, conflicts or [])
    events.emit(
        event_types.LEAD_CREATED if created else event_types.LEAD_UPDATED,
        lead_data,
        journey_id=journey.id,
    )
    if journey_created:
        # Double opt-in: the journey waits, in no stage, for `confirmation.start_confirmed`.
        held = holds_for_confirmation(funnel, lead)
        if held:
            journey.status = JourneyStatus.AWAITING
            summary = journey_summary(journey)
        # Otherwise the journey is as the lead's event just showed it: its summary is reused.
        events.emit(
            event_types.JOURNEY_CREATED,
            {**summary, "lead_id": lead.id, "explanation": HELD if held else None},
            journey_id=journey.id,
        )
        if not held:
            data = {point.name: value for point, value in cleaned.journey_data}
            enter_first_stage(journey, events=events, plan=plan, data=data)
        rows.add_all(journey.steps)
    built = Built(lead, journey, created, rows)
    if cleaned.request is not None:
        entry = events.emit(
            event_types.LEAD_REQUEST,
            {**cleaned.request, "origin_id": origin.id},
            journey_id=journey.id,
        )
        built.request_event_id = entry.id
    return built


def _store_journey_data(
    journey: Journey, cleaned: CleanLead, new_journey: bool, rows: NewRows
) -> None:
    if not cleaned.journey_data:
        return
    existing = {} if new_journey else {item.data_point_id: item for item in journey.data}
    for point, value in cleaned.journey_data:
        if point.id in existing:
            existing[point.id].value = value
        else:
            # `made`: without the constructor's attribute events (an import's `data:` columns
            # make one a column a row), the same columns and defaults.
            rows.add(made(JourneyData, journey_id=journey.id, data_point_id=point.id, value=value))


def _store_webhook_input(
    lead: Lead, cleaned: CleanLead, new_lead: bool, rows: NewRows
) -> WebhookEndpoint:
    """The lead's WebhookInput as a lead-scoped endpoint (one per lead and URL)."""
    hook = cleaned.webhook
    assert hook is not None
    endpoint = None
    if not new_lead:
        endpoint = db.session.scalar(
            db.select(WebhookEndpoint).filter_by(lead_id=lead.id, url=hook.url)
        )
    if endpoint is None:
        endpoint = WebhookEndpoint(workspace_id=lead.workspace_id, lead_id=lead.id, url=hook.url)
        rows.add(endpoint)
    endpoint.events = hook.events
    endpoint.secret = hook.secret
    endpoint.active = True
    return endpoint


def _registration_facts(
    origin: Origin, cleaned: CleanLead, context: RegistrationContext, conflicts: list[Conflict]
) -> dict[str, object]:
    """What this registration brought, kept on the event even when the lead keeps first-touch
    attribution."""
    fields = cleaned.fields
    phone = fields.get("phone")
    return {
        "origin_id": origin.id,
        "origin_kind": origin.kind,
        "source": fields.get("source"),
        "source_url": fields.get("source_url"),
        "referrer": context.referrer,
        "ip": context.ip,
        "user_agent": context.user_agent,
        "utm": {k: v for k, v in fields.items() if k.startswith("utm_")},
        "warnings": [conflict.as_dict() for conflict in conflicts],
        # Possible numbers are kept; whether the number is in an assigned range is noted.
        "phone_assigned": _phone_assigned(cleaned, phone),
    }


def _phone_assigned(cleaned: CleanLead, phone: str | None) -> bool | None:
    """What `clean` found of the phone it parsed; parsed again only for a phone it did not
    check itself (none in the pipeline)."""
    if not phone:
        return None
    if cleaned.phone_assigned is not None:
        return cleaned.phone_assigned
    return phone_is_assigned(phone)
