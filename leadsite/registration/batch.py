"""`register_many()`: a batch of registrations through one origin, an outcome per input.

The batch API and the CSV import call it. It is set-based: every input is validated first, the
funnel plan and the workspace's webhook endpoints are read once, the leads the inputs name are
found with one query per identifier kind, the rules of each registration are applied in memory
(`registration.steps`, which `register()` runs too), and the new rows are written with one
`executemany` per table, in one transaction for the batch.

Inputs of one batch that name the same person (a value of an identifier in common, or the same
lead found) are registered in rounds, in order: the second finds the lead the first wrote, and
updates it as it would have in two calls of `register()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from flask import current_app
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import selectinload

from leadsite.analytics.touch import count_registrations
from leadsite.database import (
    hold_named_locks,
    holds_write_lock,
    is_transient,
    write_transaction_options,
    writers_turn,
)
from leadsite.extensions import db
from leadsite.journeys import funnel_plan
from leadsite.journeys.plan import StagePlan
from leadsite.journeys.waits import leads_waiting
from leadsite.models import Funnel, Journey, Lead, Origin, WebhookEndpoint, Workspace
from leadsite.models.rows import NewRows
from leadsite.outbox.events import ENDPOINTS_QUERY
from leadsite.registration.build import Built, build_new
from leadsite.registration.catalogue import Catalogue
from leadsite.registration.errors import (
    NotFound,
    RegistrationError,
)
from leadsite.registration.inputs import LeadInput, RegistrationContext
from leadsite.registration.match import (
    Match,
    candidates_in,
    choose,
    find_all,
    identifier_locks,
)
from leadsite.registration.outcome import Outcome
from leadsite.registration.steps import (
    MAX_ATTEMPTS,
    Prepared,
    Registration,
    after_write,
    check_open,
    prepare,
)
from leadsite.registration.validate import IDENTIFIERS, CleanLead, clean

__all__ = ["Outcome", "register", "register_many"]

log = logging.getLogger(__name__)

# Built once: a registration that updates a lead runs it.
LEADS_ENDPOINTS_QUERY = db.select(WebhookEndpoint).where(
    WebhookEndpoint.workspace_id == db.bindparam("workspace_id"),
    WebhookEndpoint.active.is_(True),
    WebhookEndpoint.lead_id.is_(None)
    | WebhookEndpoint.lead_id.in_(db.bindparam("lead_ids", expanding=True)),
)


def register_many(
    origin: Origin | None,
    inputs: list[LeadInput],
    context: RegistrationContext,
    contexts: list[RegistrationContext] | None = None,
    before_commit: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    """Register every input through `origin`, in order; a refused input refuses nothing else.

    Two inputs for the same person: the second updates the lead the first made. `contexts`,
    when given, is each input's own (its IP, user agent, referrer) instead of `context`.
    `before_commit` is called inside the transaction, before its commit, with every input's
    outcome: a door stores its answer with the registration (the batch's `Idempotency-Key`).
    Should an insert fail on a unique constraint (a registration or an edit outside the batch
    got there first), or PostgreSQL pick the batch as a deadlock victim, the batch is rolled
    back and run again from the match: its losers then find the winners' leads and update them.
    """
    own = contexts if contexts is not None else [context] * len(inputs)
    try:
        funnel, workspace = _open(origin)
    except RegistrationError as error:
        return [Outcome.refused(error) for _ in inputs]
    assert origin is not None
    return _register(origin, funnel, workspace, inputs, own, single=False, before=before_commit)


def register(
    origin: Origin | None, lead_input: LeadInput, context: RegistrationContext
) -> Registration:
    """Register a lead through `origin`: a batch of one. Raises the `RegistrationError` that
    refused it, having written nothing; the lead and journey returned are in the session."""
    funnel, workspace = _open(origin)
    assert origin is not None
    (outcome,) = _register(origin, funnel, workspace, [lead_input], [context], single=True)
    if outcome.error is not None:
        raise outcome.error
    assert outcome.registration is not None
    return outcome.registration


def _register(
    origin: Origin,
    funnel: Funnel,
    workspace: Workspace,
    inputs: list[LeadInput],
    own: list[RegistrationContext],
    single: bool,
    before: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    outcomes: dict[int, Outcome] = {}
    allow_private = current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False)
    cleaned: dict[int, CleanLead] = {}
    catalogue = Catalogue(workspace.id)  # statuses and data points, read once a batch
    for index, lead_input in enumerate(inputs):
        try:
            cleaned[index] = clean(lead_input, workspace, funnel, allow_private, catalogue)
        except RegistrationError as error:
            if single:
                raise
            outcomes[index] = Outcome.refused(error)
    if cleaned:
        # Read and built before the write lock (SQLite's, one writer at a time): the plan, the
        # endpoints, and the inputs as new leads, most being new people.
        plan: list[StagePlan] | None = funnel_plan(funnel.id)
        endpoints = _workspace_endpoints(origin.workspace_id)
        fresh = _build_fresh(origin, funnel, cleaned, own, plan, endpoints, guess=not single)
        line: AbstractContextManager[None] = nullcontext()
        if not holds_write_lock():
            # End the caller's read transaction; the one below takes the write lock first,
            # after the other registrations in line for it (SQLite).
            db.session.commit()
            line = writers_turn()
        options = write_transaction_options(db.engine.dialect.name)
        with line:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                if not db.session().in_transaction():
                    db.session.connection(execution_options=options)
                try:
                    written = _register_all(origin, funnel, cleaned, own, plan, fresh, single)
                    if before is not None:
                        every = {**outcomes, **written}
                        before([every[index] for index in range(len(inputs))])
                    db.session.commit()
                    break
                except IntegrityError:
                    db.session.rollback()
                    if attempt == MAX_ATTEMPTS:
                        raise
                    log.info(
                        "registration hit a constraint (a race, an edit); retrying (%d)", attempt
                    )
                except DBAPIError as error:
                    db.session.rollback()
                    if attempt == MAX_ATTEMPTS or not is_transient(error):
                        raise
                    # The lock order should leave no deadlock to lose: say so when one happens.
                    log.warning(
                        "registration lost a deadlock; retrying (%d): %s", attempt, error.orig
                    )
                except BaseException:
                    db.session.rollback()  # nothing of a failed batch stays
                    raise
                # Read and build again: the objects built were written by the failed attempt.
                plan = funnel_plan(funnel.id)
                endpoints = _workspace_endpoints(origin.workspace_id)
                fresh = _build_fresh(origin, funnel, cleaned, own, plan, endpoints, not single)
        counted = []
        for index, outcome in written.items():
            outcomes[index] = outcome
            if outcome.status != "rejected":
                counted.append((cleaned[index], own[index], outcome.created))
        count_registrations(origin, counted)
    return [outcomes[index] for index in range(len(inputs))]


def _open(origin: Origin | None) -> tuple[Funnel, Workspace]:
    """The origin's funnel and workspace, or why nothing registers through it."""
    if origin is None or not origin.active:
        raise NotFound()
    funnel = db.session.get(Funnel, origin.funnel_id)
    workspace = db.session.get(Workspace, origin.workspace_id)
    if funnel is None or workspace is None:
        raise NotFound()
    check_open(funnel)
    return funnel, workspace


def _workspace_endpoints(workspace_id: str) -> list[WebhookEndpoint]:
    """The workspace's active endpoints: every new lead's events go to them."""
    params = {"workspace_id": workspace_id, "lead_id": None}
    return list(db.session.scalars(ENDPOINTS_QUERY, params))


def _build_fresh(
    origin: Origin,
    funnel: Funnel,
    cleaned: dict[int, CleanLead],
    contexts: list[RegistrationContext],
    plan: list[StagePlan] | None,
    endpoints: list[WebhookEndpoint],
    guess: bool = True,
) -> dict[int, Built]:
    """The inputs built as new leads, but, with `guess`, those that will most likely update one:
    a lead holds one of their identifiers now (read without a lock), or an earlier input gives
    it. (A registration on its own is built new without the read, as most are.)"""
    known = find_all(origin.workspace_id, list(cleaned.values()), lock=False) if guess else {}
    new, _ = _round(sorted(cleaned), cleaned)
    return {
        index: build_new(origin, funnel, cleaned[index], contexts[index], plan, None, endpoints)
        for index in new
        if not cleaned[index].must_exist and not candidates_in(known, cleaned[index])
    }


def _register_all(
    origin: Origin,
    funnel: Funnel,
    cleaned: dict[int, CleanLead],
    contexts: list[RegistrationContext],
    plan: list[StagePlan] | None,
    fresh: dict[int, Built],
    single: bool = False,
) -> dict[int, Outcome]:
    """Match, decide, build and write every input, round by round; the caller commits. A
    registration on its own (`single`) raises its refusal, and its objects join the session."""
    workspace_id = origin.workspace_id
    hold_named_locks(identifier_locks(workspace_id, list(cleaned.values())))
    outcomes: dict[int, Outcome] = {}
    pending = sorted(cleaned)
    while pending:
        now, later = _round(pending, cleaned)
        found = find_all(workspace_id, [cleaned[index] for index in now])
        matches = {i: choose(candidates_in(found, cleaned[i]), cleaned[i]) for i in now}
        matched = [match.lead for match in matches.values() if match.lead is not None]
        journeys = _journeys(funnel.id, matched)
        # A new lead built before the lock (`fresh`) keeps the endpoints it was built with:
        # read them here only for an input that updates a lead or is built now.
        endpoints = (
            _endpoints(workspace_id, matched)
            if any(_built_now(index, matches[index], fresh) for index in now)
            else {}
        )
        rows = NewRows()
        prepared: list[tuple[int, Prepared]] = []
        claimed: set[str] = set()
        blocked: set[tuple[str, str]] = set()
        for index in now:
            match = matches[index]
            lead = match.lead
            if (lead is not None and lead.id in claimed) or _keys(cleaned[index]) & blocked:
                # Another input of this round updates this lead: after it, in the next round.
                later.append(index)
                blocked |= _keys(cleaned[index])
                continue
            try:
                item = prepare(
                    origin,
                    funnel,
                    cleaned[index],
                    contexts[index],
                    plan,
                    match,
                    fresh.get(index),
                    journeys.get(lead.id) if lead is not None else None,
                    endpoints.get(lead.id if lead is not None else None),
                )
            except RegistrationError as error:
                if single:
                    raise
                outcomes[index] = Outcome.refused(error)
                continue
            if lead is not None:
                claimed.add(lead.id)
            rows.extend(item.built.rows)
            prepared.append((index, item))
        # Outcomes name the leads by id: the objects join the session only when an email about
        # them is made (it reads their relationships). Only then are they made detached by the
        # write (a tenth of an import's write); the others are written and dropped.
        attach = {
            index: single or funnel.double_opt_in or bool(item.cleaned.notifications)
            for index, item in prepared
        }
        # A racing registration of the same person fails here (or at the flush of an update),
        # on a unique constraint.
        rows.write(db.session, detach=any(attach.values()))
        # One query finds the leads of the round that existed and have a wait-until waiting,
        # instead of a recheck's query for each.
        waiting = leads_waiting([item.built.lead.id for _, item in prepared if item.existed])
        for index, item in prepared:
            after_write(funnel, item, attach[index], recheck=item.built.lead.id in waiting)
        db.session.flush()
        for index, item in prepared:
            built = item.built
            on_written = contexts[index].on_written
            if on_written is not None:
                on_written(built.lead.id, built.created)
            outcomes[index] = Outcome(
                status="created" if built.created else "updated",
                lead_id=built.lead.id,
                http_status=201 if built.created else 200,
                warnings=list(item.warnings),
                registration=Registration(
                    lead=built.lead,
                    journey=built.journey,
                    created=built.created,
                    warnings=item.warnings,
                    request_event_id=built.request_event_id,
                )
                if single
                else None,
            )
        pending = sorted(later)
    return outcomes


def _built_now(index: int, match: Match, fresh: dict[int, Built]) -> bool:
    """Whether `prepare` builds this input under the lock (an update, or a new lead whose
    fresh build cannot be used: none was made, or it holds another lead's identifier)."""
    return match.lead is not None or index not in fresh or bool(match.conflicts)


def _keys(cleaned: CleanLead) -> set[tuple[str, str]]:
    return {(name, value) for name in IDENTIFIERS if (value := cleaned.identifier(name))}


def _round(pending: list[int], cleaned: dict[int, CleanLead]) -> tuple[list[int], list[int]]:
    """The inputs that share no identifier's value with an earlier pending one (registered
    now, together), and the others (after them)."""
    seen: set[tuple[str, str]] = set()
    now, later = [], []
    for index in pending:
        keys = _keys(cleaned[index])
        (later if keys & seen else now).append(index)
        seen |= keys
    return now, later


def _journeys(funnel_id: str, leads: list[Lead]) -> dict[str, Journey]:
    """The journeys in this funnel of the leads found, by lead, in one query."""
    if not leads:
        return {}
    query = (
        db.select(Journey)
        .where(Journey.funnel_id == funnel_id, Journey.lead_id.in_([lead.id for lead in leads]))
        # Their data too, in one more query, read afresh: an earlier round of the batch may
        # have written data of a journey already in the session.
        .options(selectinload(Journey.data))
        .execution_options(populate_existing=True)
    )
    return {journey.lead_id: journey for journey in db.session.scalars(query)}


def _endpoints(workspace_id: str, leads: list[Lead]) -> dict[str | None, list[WebhookEndpoint]]:
    """The endpoints each lead's events go to, by lead (None: a new lead's), in one query: the
    workspace's active endpoints and the lead's own."""
    ids = [lead.id for lead in leads]
    shared: list[WebhookEndpoint] = []
    own: dict[str, list[WebhookEndpoint]] = {}
    params = {"workspace_id": workspace_id, "lead_ids": ids}
    for endpoint in db.session.scalars(LEADS_ENDPOINTS_QUERY, params):
        if endpoint.lead_id is None:
            shared.append(endpoint)
        else:
            own.setdefault(endpoint.lead_id, []).append(endpoint)
    result: dict[str | None, list[WebhookEndpoint]] = {None: shared}
    for lead_id in ids:
        result[lead_id] = shared + own.get(lead_id, [])
    return result
