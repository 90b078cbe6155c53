"""`register()`: the one function every door calls to register a lead, in one transaction."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import String, inspect
from sqlalchemy.exc import IntegrityError

from leadsite.database import holds_write_lock, write_transaction_options, writers_turn
from leadsite.extensions import db
from leadsite.journeys import funnel_plan, start_journey
from leadsite.journeys.engine import enter_first_stage
from leadsite.journeys.plan import StagePlan
from leadsite.models import (
    Funnel,
    FunnelStatus,
    Journey,
    JourneyData,
    Lead,
    OnDuplicate,
    Origin,
    WebhookEndpoint,
    Workspace,
    utcnow,
)
from leadsite.models.rows import NewRows
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.outbox.notifications import queue_registration_sms
from leadsite.registration.errors import (
    Duplicate,
    FunnelClosed,
    LeadNotFound,
    NotFound,
    RegistrationError,
)
from leadsite.registration.inputs import LeadInput, RegistrationContext
from leadsite.registration.merge import apply_to_new_lead, merge_into_lead
from leadsite.registration.validate import IDENTIFIERS, CleanLead, clean
from leadsite.representations import journey_summary, lead_dict

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@dataclass
class Registration:
    lead: Lead
    journey: Journey
    created: bool


def check_open(funnel: Funnel) -> None:
    """Raise `FunnelClosed` unless the funnel is active and now is inside its dates."""
    now = utcnow()
    if (
        funnel.status != FunnelStatus.ACTIVE
        or (funnel.starts_at is not None and now < funnel.starts_at)
        or (funnel.ends_at is not None and now >= funnel.ends_at)
    ):
        raise FunnelClosed()


def register(
    origin: Origin | None, lead_input: LeadInput, context: RegistrationContext
) -> Registration:
    """Register a lead through `origin`: validate, deduplicate, generate the journey, write events
    and outbox messages, and commit. Raises a `RegistrationError` having written nothing.

    A concurrent registration of the same person makes the insert fail on a unique constraint;
    the attempt is then rolled back and retried, and finds the other's lead to update.
    """
    if origin is None or not origin.active:
        raise NotFound()
    funnel = db.session.get(Funnel, origin.funnel_id)
    if funnel is None:
        raise NotFound()
    check_open(funnel)
    workspace = db.session.get(Workspace, origin.workspace_id)
    cleaned = clean(
        lead_input, workspace, funnel, current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False)
    )
    # Read and built before the write lock, which SQLite gives one writer at a time: the funnel
    # plan and, as most registrations are of new people, the new lead with its journey and
    # events. A funnel or webhook edited in between makes an insert fail on a foreign key; the
    # retry reads and builds again.
    plan: list[StagePlan] | None = funnel_plan(funnel.id)
    fresh = None if cleaned.must_exist else _build_new(origin, funnel, cleaned, context, plan)
    line: AbstractContextManager[None] = nullcontext()
    if not holds_write_lock():
        # End the caller's read transaction; the one below takes the write lock first, after
        # the other registrations in line for it (SQLite).
        db.session.commit()
        line = writers_turn()
    options = write_transaction_options(db.engine.dialect.name)
    with line:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if not db.session().in_transaction():
                db.session.connection(execution_options=options)
            try:
                registration = _register_once(origin, funnel, cleaned, context, plan, fresh)
                db.session.commit()
                return registration
            except IntegrityError:
                db.session.rollback()
                if attempt == MAX_ATTEMPTS:
                    raise
                plan, fresh = None, None  # read and build again
                log.info(
                    "registration hit a constraint (a race, or an edit); retrying (%d)", attempt
                )
            except RegistrationError:
                db.session.rollback()
                raise
    raise AssertionError("unreachable")


@dataclass
class _Built:
    """A registration made in memory: its lead and journey, and the new rows to write."""

    lead: Lead
    journey: Journey
    created: bool
    rows: NewRows


def _register_once(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    plan: list[StagePlan] | None,
    fresh: _Built | None,
) -> Registration:
    """Match, then write `fresh` (a new lead built before the write lock) when nothing matched,
    or build and write the update of the lead that did."""
    lead, matched_by = _find_existing(origin.workspace_id, funnel, cleaned)
    if lead is not None and funnel.on_duplicate == OnDuplicate.REJECT:
        raise Duplicate(matched_by, cleaned.identifier(matched_by) or "", lead.id)
    if lead is None and cleaned.must_exist:
        raise LeadNotFound()
    if lead is None:
        built = fresh or _build_new(origin, funnel, cleaned, context, plan)
    else:
        journey = db.session.scalar(
            db.select(Journey).filter_by(lead_id=lead.id, funnel_id=funnel.id)
        )
        merge_into_lead(lead, cleaned, context, _taken_identifiers(lead, cleaned))
        built = _build(origin, funnel, cleaned, context, plan, lead, journey)
    # A racing registration of the same person fails here (or at the flush of an update), on a
    # unique constraint.
    built.rows.write(db.session)
    # Written, so only attached: the caller gets them in the session, as if loaded.
    db.session.add_all([built.lead, built.journey])
    if built.created:
        queue_registration_sms(funnel, built.lead)
    # Imported here: leadsite.public's views import this module.
    from leadsite.public.confirm import send_confirmation

    send_confirmation(built.lead, built.journey)  # only when the funnel asks for double opt-in
    db.session.flush()
    return Registration(lead=built.lead, journey=built.journey, created=built.created)


def _build_new(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    plan: list[StagePlan] | None,
) -> _Built:
    lead = Lead(workspace_id=origin.workspace_id, origin_id=origin.id)
    apply_to_new_lead(lead, cleaned, context)
    return _build(origin, funnel, cleaned, context, plan, lead, None)


def _build(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    plan: list[StagePlan] | None,
    lead: Lead,
    journey: Journey | None,
) -> _Built:
    """The journey (when the lead has none in this funnel yet, generated and in its first
    stage), the journey data, the WebhookInput, and the events with their outbox messages: all
    in memory, the new rows collected to be written with one INSERT per table. Reads the
    workspace's webhook endpoints (and the funnel plan, when not given); writes nothing."""
    created = inspect(lead).transient
    rows = NewRows()
    if created:
        rows.add(lead)
    events = EventWriter(origin.workspace_id, lead.id, add=rows.add)
    events.endpoints()
    journey_created = journey is None
    if journey is None:
        plan = funnel_plan(funnel.id) if plan is None else plan
        journey = start_journey(lead, funnel, origin, plan)
        rows.add(journey)
    if cleaned.redirect_url:
        journey.redirect_url = cleaned.redirect_url
    _store_journey_data(journey, cleaned, journey_created, rows)
    if cleaned.webhook is not None:
        events.add_endpoint(_store_webhook_input(lead, cleaned, created, rows))
    lead_data = {**lead_dict(lead), "journey": journey_summary(journey)}
    events.emit(
        event_types.LEAD_CREATED if created else event_types.LEAD_UPDATED,
        {**lead_data, "registration": _registration_facts(origin, cleaned, context)},
        journey_id=journey.id,
    )
    if journey_created:
        events.emit(
            event_types.JOURNEY_CREATED,
            {**journey_summary(journey), "lead_id": lead.id},
            journey_id=journey.id,
        )
        data = {point.name: value for point, value in cleaned.journey_data}
        enter_first_stage(journey, events=events, plan=plan, data=data)
        rows.add_all(journey.steps)
    return _Built(lead, journey, created, rows)


# Built once: every registration runs one. An identifier not given is bound as NULL, which
# equals nothing. Each identifier is paired with the workspace so that SQLite searches each
# unique index (a MULTI-INDEX OR): `workspace_id = ? AND (... OR ...)` walks the workspace.
MATCH_QUERY = db.select(Lead).where(
    db.or_(
        *(
            (Lead.workspace_id == db.bindparam("workspace_id"))
            & (getattr(Lead, name) == db.bindparam(name, type_=String))
            for name in IDENTIFIERS
        )
    )
)
MATCH_FOR_UPDATE = MATCH_QUERY.with_for_update()


def _find_existing(
    workspace_id: str, funnel: Funnel, cleaned: CleanLead
) -> tuple[Lead | None, str]:
    """The lead matching the funnel's identifier, else another identifier, locked for update."""
    order = [funnel.identifier, *(name for name in IDENTIFIERS if name != funnel.identifier)]
    present = [(name, cleaned.identifier(name)) for name in order if cleaned.identifier(name)]
    if not present:
        return None, ""
    query = MATCH_FOR_UPDATE if db.engine.dialect.name == "postgresql" else MATCH_QUERY
    params = {
        "workspace_id": workspace_id,
        **{name: cleaned.identifier(name) for name in IDENTIFIERS},
    }
    candidates = list(db.session.scalars(query, params))
    for name, value in present:
        for lead in candidates:
            if getattr(lead, name) == value:
                return lead, name
    return None, ""


def _taken_identifiers(lead: Lead, cleaned: CleanLead) -> set[str]:
    """Identifiers given in the input that another lead of the workspace already holds."""
    taken = set()
    for name in IDENTIFIERS:
        value = cleaned.identifier(name)
        if (
            value
            and getattr(lead, name) in (None, "")
            and db.session.scalar(
                db.select(Lead.id).filter(
                    Lead.workspace_id == lead.workspace_id, getattr(Lead, name) == value
                )
            )
        ):
            taken.add(name)
    return taken


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
            rows.add(JourneyData(journey_id=journey.id, data_point_id=point.id, value=value))


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
    origin: Origin, cleaned: CleanLead, context: RegistrationContext
) -> dict[str, object]:
    """What this registration brought, kept on the event even when the lead keeps first-touch
    attribution."""
    fields = cleaned.fields
    return {
        "origin_id": origin.id,
        "origin_kind": origin.kind,
        "source": fields.get("source"),
        "source_url": fields.get("source_url"),
        "referrer": context.referrer,
        "ip": context.ip,
        "user_agent": context.user_agent,
        "utm": {k: v for k, v in fields.items() if k.startswith("utm_")},
    }
