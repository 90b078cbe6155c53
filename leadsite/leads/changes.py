"""Service functions that change a lead outside registration: edit and erase. They flush."""

from __future__ import annotations

from typing import Any

from leadsite import values as check
from leadsite.erasure import erase_lead
from leadsite.extensions import db
from leadsite.journeys.waits import recheck_lead
from leadsite.leads import statuses as lead_statuses
from leadsite.models import Lead, utcnow
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.registration import Duplicate, FieldError, RegistrationError, ValidationFailed
from leadsite.registration.validate import IDENTIFIERS, MAX_NAME, MAX_TAG, MAX_TAGS, label
from leadsite.representations import lead_dict

# Erasure lives in leadsite.erasure; re-exported for the views that call it from here.
__all__ = ["LeadErased", "erase_lead", "update_lead"]


class LeadErased(RegistrationError):
    """The lead was erased while the change waited for its lock: nothing is written back."""

    code, status = "LEAD_ERASED", 409
    message = "This lead's personal data was erased: there is nothing to change"


NOT_NULL = ("opt_in", "sms_opt_in")


def _convert(lead: Lead, changes: dict[str, Any], region: str) -> dict[str, Any]:
    converters = {
        "email": check.email,
        "phone": lambda v: check.phone(v, changes.get("country_code") or region),
        "unique_id": lambda v: check.text(v, 200),
        "first_name": lambda v: check.text(v, MAX_NAME),
        "last_name": lambda v: check.text(v, MAX_NAME),
        "address": lambda v: check.text(v, 500),
        "status": lambda v: lead_statuses.known(lead.workspace_id, v),
        "opt_in": check.boolean,
        "sms_opt_in": check.boolean,
    }
    result: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name, value in changes.items():
        try:
            if name in converters:
                result[name] = converters[name](value)
            elif name == "tags":
                tags = [check.text(tag, MAX_TAG) for tag in value or []]
                result[name] = list(dict.fromkeys(tag for tag in tags if tag))
                if len(result[name]) > MAX_TAGS:
                    raise check.Invalid(f"at most {MAX_TAGS} tags")
            elif name == "custom_fields":
                result[name] = check.custom_fields(value)
            if name in NOT_NULL and result.get(name, changes[name]) is None:
                raise check.Invalid("must be true or false: it cannot be cleared")
        except check.Invalid as error:
            errors.append(
                FieldError(
                    name,
                    f"{name.replace('_', ' ').capitalize()} {error}",
                    value,
                )
            )
    if result.get("status", "") is None:
        errors.append(FieldError("status", "Status cannot be empty"))
    cleared = [name for name in IDENTIFIERS if name in result and not result[name]]
    if cleared and not any(
        result[name] if name in result else getattr(lead, name) for name in IDENTIFIERS
    ):
        # Registrations match leads by these: a lead with none could never be found again.
        errors.extend(
            FieldError(
                name,
                f"{label(name)} cannot be cleared: a lead keeps an email, a phone or a unique ID",
            )
            for name in cleared
        )
    if errors:
        raise ValidationFailed(errors)
    return result


def lock_leads(leads: list[Lead]) -> None:
    """Lock the leads' rows for this transaction and read them afresh (PostgreSQL; on SQLite a
    writing request holds the database's write lock from its start).

    Call it before reading what a change is computed from (tags to add to): a registration
    of the same lead may have merged its own since the lead was loaded. In the order of their
    ids, so that two bulk actions cannot deadlock; FOR NO KEY UPDATE, as registrations lock.
    """
    if not leads or db.engine.dialect.name != "postgresql":
        return
    db.session.scalars(
        db.select(Lead)
        .where(Lead.id.in_([lead.id for lead in leads]))
        .order_by(Lead.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).all()


def update_lead(lead: Lead, changes: dict[str, Any], region: str) -> Lead:
    """Apply checked changes; an identifier another lead holds raises `Duplicate`, a lead
    erased meanwhile (read afresh under its lock) `LeadErased`."""
    lock_leads([lead])
    if lead.erased_at is not None:
        raise LeadErased()
    values = _convert(lead, changes, region)
    for name in IDENTIFIERS:
        value = values.get(name)
        if value and value != getattr(lead, name):
            other = db.session.scalar(
                db.select(Lead.id).filter(
                    Lead.workspace_id == lead.workspace_id,
                    getattr(Lead, name) == value,
                    Lead.id != lead.id,
                )
            )
            if other:
                raise Duplicate(name, value, other)
    now = utcnow()
    for name, value in values.items():
        if name == "opt_in" and value and not lead.opt_in:
            lead.opt_in_at = now
        setattr(lead, name, value)
    lead.updated_at = now
    db.session.flush()
    EventWriter(lead.workspace_id, lead.id).emit(
        event_types.LEAD_UPDATED, {**lead_dict(lead), "changed": sorted(values)}
    )
    recheck_lead(lead, now)  # a wait-until may be waiting for these values
    return lead
