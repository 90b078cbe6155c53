"""`register()`: the one function every door calls to register a lead, in one transaction."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy.exc import DBAPIError, IntegrityError

from leadsite.analytics.touch import count_registration
from leadsite.database import (
    holds_write_lock,
    is_transient,
    write_transaction_options,
    writers_turn,
)
from leadsite.extensions import db
from leadsite.journeys import funnel_plan
from leadsite.journeys.plan import StagePlan
from leadsite.models import (
    Funnel,
    FunnelStatus,
    Journey,
    Lead,
    Origin,
    Workspace,
    utcnow,
)
from leadsite.registration.build import Built, build_new
from leadsite.registration.errors import (
    Conflict,
    FunnelClosed,
    NotFound,
    RegistrationError,
)
from leadsite.registration.inputs import LeadInput, RegistrationContext
from leadsite.registration.match import find_existing
from leadsite.registration.steps import after_write, prepare
from leadsite.registration.validate import CleanLead, clean

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@dataclass
class Registration:
    lead: Lead
    journey: Journey
    created: bool
    # Identifiers given but not stored (held by another lead): the registration still happened.
    warnings: list[Conflict] = field(default_factory=list)
    request_event_id: str | None = None  # the timeline entry of a request made with it


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

    Registrations of the same person take turns (see `_find_existing`). Should an insert still
    fail on a unique constraint (a back-office edit gave another lead the email meanwhile), or
    PostgreSQL still pick this transaction as a deadlock victim, the attempt is rolled back and
    retried from the match.
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
                count_registration(origin, cleaned, context, registration.created)
                return registration
            except IntegrityError:
                db.session.rollback()
                if attempt == MAX_ATTEMPTS:
                    raise
                plan, fresh = None, None  # read and build again
                log.info(
                    "registration hit a constraint (a race, or an edit); retrying (%d)", attempt
                )
            except DBAPIError as error:
                db.session.rollback()
                if attempt == MAX_ATTEMPTS or not is_transient(error):
                    raise
                plan, fresh = None, None
                # The lock order below should leave no deadlock to lose: say so when one happens.
                log.warning("registration lost a deadlock; retrying (%d): %s", attempt, error.orig)
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
    match = find_existing(origin.workspace_id, cleaned)
    journey = None
    if match.lead is not None:
        journey = db.session.scalar(
            db.select(Journey).filter_by(lead_id=match.lead.id, funnel_id=funnel.id)
        )
    prepared = prepare(origin, funnel, cleaned, context, plan, match, fresh, journey)
    built = prepared.built
    # A racing registration of the same person fails here (or at the flush of an update), on a
    # unique constraint.
    built.rows.write(db.session)
    after_write(funnel, prepared)
    db.session.flush()
    if context.on_written is not None:
        context.on_written(built.lead.id, built.created)
    return Registration(
        lead=built.lead,
        journey=built.journey,
        created=built.created,
        warnings=prepared.warnings,
        request_event_id=built.request_event_id,
    )
