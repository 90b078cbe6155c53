"""`register()`: the one function every door calls to register a lead, in one transaction."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import String
from sqlalchemy.exc import IntegrityError

from leadsite.database import holds_write_lock, write_transaction_options, writers_turn
from leadsite.extensions import db
from leadsite.journeys import funnel_plan
from leadsite.journeys.plan import StagePlan
from leadsite.models import (
    Funnel,
    FunnelStatus,
    Journey,
    Lead,
    OnDuplicate,
    Origin,
    Workspace,
    utcnow,
)
from leadsite.outbox.notifications import queue_registration_sms
from leadsite.registration.build import Built, build, build_new
from leadsite.registration.errors import (
    Duplicate,
    FunnelClosed,
    LeadNotFound,
    NotFound,
    RegistrationError,
)
from leadsite.registration.inputs import LeadInput, RegistrationContext
from leadsite.registration.merge import merge_into_lead
from leadsite.registration.validate import IDENTIFIERS, CleanLead, clean

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
    fresh = None if cleaned.must_exist else build_new(origin, funnel, cleaned, context, plan)
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


def _register_once(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    plan: list[StagePlan] | None,
    fresh: Built | None,
) -> Registration:
    """Match, then write `fresh` (a new lead built before the write lock) when nothing matched,
    or build and write the update of the lead that did."""
    lead, matched_by = _find_existing(origin.workspace_id, funnel, cleaned)
    if lead is not None and funnel.on_duplicate == OnDuplicate.REJECT:
        raise Duplicate(matched_by, cleaned.identifier(matched_by) or "", lead.id)
    if lead is None and cleaned.must_exist:
        raise LeadNotFound()
    if lead is None:
        built = fresh or build_new(origin, funnel, cleaned, context, plan)
    else:
        journey = db.session.scalar(
            db.select(Journey).filter_by(lead_id=lead.id, funnel_id=funnel.id)
        )
        merge_into_lead(lead, cleaned, context, _taken_identifiers(lead, cleaned))
        built = build(origin, funnel, cleaned, context, plan, lead, journey)
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
    if context.on_written is not None:
        context.on_written(built.lead.id, built.created)
    return Registration(lead=built.lead, journey=built.journey, created=built.created)


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
    given = {name: cleaned.identifier(name) for name in IDENTIFIERS}
    order = [funnel.identifier, *(name for name in IDENTIFIERS if name != funnel.identifier)]
    present = [(name, given[name]) for name in order if given[name]]
    if not present:
        return None, ""
    query = MATCH_FOR_UPDATE if db.engine.dialect.name == "postgresql" else MATCH_QUERY
    candidates = list(db.session.scalars(query, {"workspace_id": workspace_id, **given}))
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
