"""Service functions that change a lead outside registration: edit and erase. They flush."""

from __future__ import annotations

from typing import Any

from leadsite import values as check
from leadsite.extensions import db
from leadsite.models import (
    Event,
    IngestionEntry,
    Lead,
    MessageStatus,
    OutboxMessage,
    WebhookEndpoint,
    utcnow,
)
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.registration import Duplicate, FieldError, ValidationFailed
from leadsite.registration.validate import IDENTIFIERS, MAX_NAME, MAX_TAG, MAX_TAGS
from leadsite.representations import lead_dict

PERSONAL_FIELDS = (
    "email",
    "phone",
    "unique_id",
    "first_name",
    "last_name",
    "address",
    "ip",
    "user_agent",
    "referrer",
    "source_url",
    "consent",
)


def _convert(lead: Lead, changes: dict[str, Any], region: str) -> dict[str, Any]:
    converters = {
        "email": check.email,
        "phone": lambda v: check.phone(v, changes.get("country_code") or region),
        "unique_id": lambda v: check.text(v, 200),
        "first_name": lambda v: check.text(v, MAX_NAME),
        "last_name": lambda v: check.text(v, MAX_NAME),
        "address": lambda v: check.text(v, 500),
        "status": lambda v: check.text(v, 40),
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
                result[name] = {str(k).lower(): v for k, v in (value or {}).items()}
        except check.Invalid as error:
            errors.append(
                FieldError(
                    name,
                    f"{name.replace('_', ' ').capitalize()} {error}",
                    value if isinstance(value, str | int | bool) else None,
                )
            )
    if result.get("status", "") is None:
        errors.append(FieldError("status", "Status cannot be empty"))
    if errors:
        raise ValidationFailed(errors)
    return result


def update_lead(lead: Lead, changes: dict[str, Any], region: str) -> Lead:
    """Apply checked changes; an identifier another lead holds raises `Duplicate`."""
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
    return lead


def erase_lead(lead: Lead) -> Lead:
    """Erase the lead's personal data and keep an anonymous row: its journeys' steps and the
    counts stay, its timeline's payloads, pending deliveries and own webhooks go."""
    for name in PERSONAL_FIELDS:
        setattr(lead, name, None)
    lead.tags, lead.custom_fields = [], {}
    lead.status = "erased"
    lead.erased_at = lead.updated_at = utcnow()
    for journey in lead.journeys:
        journey.redirect_url = None
        journey.data.clear()
    db.session.execute(
        db.update(Event).where(Event.lead_id == lead.id).values(payload={"erased": True})
    )
    db.session.execute(
        db.delete(OutboxMessage).where(
            OutboxMessage.lead_id == lead.id, OutboxMessage.status == MessageStatus.PENDING
        )
    )
    db.session.execute(db.delete(WebhookEndpoint).where(WebhookEndpoint.lead_id == lead.id))
    # What the lead's registrations sent, as the ingestion log keeps it: the entries stay (the
    # origin's counts and outcomes), their request and error texts go.
    db.session.execute(
        db.update(IngestionEntry)
        .where(IngestionEntry.lead_id == lead.id)
        .values(body=None, query=None, message=None, details=None)
    )
    db.session.add(
        Event(
            workspace_id=lead.workspace_id,
            lead_id=lead.id,
            type=event_types.LEAD_ERASED,
            payload={},
        )
    )
    db.session.flush()
    return lead
