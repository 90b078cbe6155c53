"""Held leads: submissions judged a bot's are kept, not registered, until staff decide.

A held lead is a `Lead` row with `held` set and what was sent in `held_submission`: no journey,
no events but its timeline note, no emails and no webhooks. Accepting it runs the stored
submission through `register()`, which then announces the lead as new (journey, emails,
`lead.created`); deleting it removes the row and all it holds.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, fields
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from leadsite.database import begin_write_transaction, holds_write_lock
from leadsite.extensions import db
from leadsite.models import Event, Funnel, Lead, OnDuplicate, Origin, Workspace, utcnow
from leadsite.outbox import event_types
from leadsite.registration.errors import Duplicate, NotFound, RegistrationError
from leadsite.registration.inputs import (
    JourneyDataInput,
    LeadInput,
    RegistrationContext,
    WebhookInput,
)
from leadsite.registration.match import find_existing  # a held lead is matched as a lead is
from leadsite.registration.merge import apply_to_new_lead, merge_into_lead
from leadsite.registration.pipeline import Registration, check_open, register
from leadsite.registration.validate import IDENTIFIERS, CleanLead, clean
from leadsite.representations import iso

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3


def hold(
    origin: Origin | None, lead_input: LeadInput, context: RegistrationContext, reason: str
) -> Lead:
    """Keep a submission as a held lead, validated as `register()` would and committed.

    A held lead that matches again (the same bot, or the same person sending twice) is updated.
    When a registered lead already holds an identifier, the held lead is kept without it (the
    identifiers are unique); accepting it then updates that lead. Raises what `register()`
    raises for a closed funnel, a bad value or a refused duplicate, having written nothing.
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
    submission = {
        "origin_id": origin.id,
        "reason": reason,
        "held_at": iso(utcnow()),
        "input": asdict(lead_input),
        "context": asdict(context),
    }
    if not holds_write_lock():
        db.session.commit()  # end the read transaction; SQLite's write lock is taken at BEGIN
        begin_write_transaction()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            lead = _hold_once(origin, funnel, cleaned, context, submission)
            db.session.commit()
            return lead
        except IntegrityError:  # a concurrent submission took an identifier: match again
            db.session.rollback()
            if attempt == MAX_ATTEMPTS:
                raise
            begin_write_transaction()
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def _hold_once(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    submission: dict[str, Any],
) -> Lead:
    match = find_existing(origin.workspace_id, cleaned)
    existing = match.lead
    if existing is not None and existing.held:
        merge_into_lead(existing, cleaned, context, {c.field for c in match.conflicts})
        lead = existing
    elif existing is not None and funnel.on_duplicate == OnDuplicate.REJECT:
        raise Duplicate(match.by, cleaned.identifier(match.by) or "", existing.id)
    else:
        lead = Lead(workspace_id=origin.workspace_id, origin_id=origin.id, held=True)
        apply_to_new_lead(lead, cleaned, context)
        for name in IDENTIFIERS:
            value = getattr(lead, name)
            if value and _taken(origin.workspace_id, name, value):
                setattr(lead, name, None)  # kept in the submission; accepting merges it there
        db.session.add(lead)
    lead.held_submission = submission
    # The timeline's note only: no webhook hears of a held lead.
    db.session.add(
        Event(
            workspace_id=lead.workspace_id,
            lead=lead,
            type=event_types.LEAD_HELD,
            payload={"reason": submission["reason"], "origin_id": origin.id},
        )
    )
    db.session.flush()
    log.info("origin %s: submission held as lead %s (%s)", origin.id, lead.id, submission["reason"])
    return lead


def _taken(workspace_id: str, name: str, value: str) -> bool:
    statement = db.select(Lead.id).filter(
        Lead.workspace_id == workspace_id, getattr(Lead, name) == value
    )
    return db.session.scalar(statement) is not None


def held_input(lead: Lead) -> tuple[LeadInput, RegistrationContext]:
    """The submission a held lead keeps, as `register()` takes it."""
    stored = lead.held_submission or {}
    raw = dict(stored.get("input") or {})
    raw["journey_data"] = [
        JourneyDataInput(**item) for item in raw.get("journey_data") or [] if isinstance(item, dict)
    ]
    hook = raw.get("webhook")
    raw["webhook"] = WebhookInput(**hook) if isinstance(hook, dict) else None
    known = {item.name for item in fields(LeadInput)}
    context = {
        key: value
        for key, value in (stored.get("context") or {}).items()
        if key in {item.name for item in fields(RegistrationContext)}
    }
    return LeadInput(**{k: v for k, v in raw.items() if k in known}), RegistrationContext(**context)


def held_origin(lead: Lead) -> Origin | None:
    origin_id = (lead.held_submission or {}).get("origin_id") or lead.origin_id
    origin = db.session.get(Origin, origin_id) if origin_id else None
    return origin if origin is not None and origin.workspace_id == lead.workspace_id else None


class NoLongerHeld(RegistrationError):
    """Another request accepted or deleted the held lead while this one waited for it."""

    code, status, message = "NOT_HELD", 409, "It was accepted or deleted meanwhile"


def _lock_held(lead: Lead) -> None:
    """Lock the lead's row and read it afresh; `NoLongerHeld` when it is gone or registered.
    Two staff accepting at once each registered it: one journey, but a `lead.created` (and
    its webhooks) for every click."""
    if not holds_write_lock():
        db.session.rollback()  # end the read: SQLite's write lock is taken at BEGIN
        begin_write_transaction()
    found = db.session.scalars(
        db.select(Lead)
        .filter_by(id=lead.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None or not found.held:
        raise NoLongerHeld()


def accept_held(lead: Lead) -> Registration:
    """Register what the held lead sent, as if it had just arrived: journey, emails, events and
    webhooks follow, and the lead is announced as new. Commits. When another lead holds its
    identifier, the submission updates that lead and the held row is deleted.

    Raises `register()`'s errors (the funnel closed since, a data point removed...), having
    changed nothing; `NoLongerHeld` when another request accepted or deleted it meanwhile."""
    _lock_held(lead)
    lead_input, context = held_input(lead)
    held_id = lead.id
    # Counted afresh: the held submissions were not registrations; this is the first.
    lead.counter = 0
    registration = register(held_origin(lead), lead_input, context)
    if registration.lead.id != held_id:
        delete_held(held_id)
        db.session.commit()
    return registration


def delete_held(lead_id: str) -> None:
    """Delete a held lead with everything it holds (its timeline note); flushes, never commits."""
    db.session.execute(db.delete(Lead).where(Lead.id == lead_id, Lead.held.is_(True)))
