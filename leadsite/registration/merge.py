"""Step 3 of the pipeline: fill a new lead, or merge a registration into an existing one."""

from __future__ import annotations

from typing import Any

from leadsite.models import UTM_FIELDS, Lead, utcnow
from leadsite.models.base import made
from leadsite.models.lead import search_key
from leadsite.registration.errors import FieldError, ValidationFailed
from leadsite.registration.inputs import RegistrationContext
from leadsite.registration.validate import IDENTIFIERS, MAX_TAGS, CleanLead

# Given values overwrite these on every registration.
# A lead registering again in another language is spoken to in that one from then on.
PROFILE_FIELDS = ("first_name", "last_name", "address", "status", "language")
# First touch wins: set once, kept afterwards (each registration's own values stay on its event).
ATTRIBUTION_FIELDS = ("source", "source_url", *UTM_FIELDS)


def _apply_context(lead: Lead, context: RegistrationContext) -> None:
    lead.ip = context.ip or lead.ip
    lead.user_agent = (context.user_agent or "")[:500] or lead.user_agent
    if context.referrer and not lead.referrer:
        lead.referrer = context.referrer[:2000]


def _apply_consent(lead: Lead, cleaned: CleanLead) -> None:
    now = utcnow()
    if cleaned.fields.get("opt_in") is True and not lead.opt_in:
        lead.opt_in, lead.opt_in_at = True, now
    elif cleaned.fields.get("opt_in") is False:
        lead.opt_in = False
    if "sms_opt_in" in cleaned.fields:
        lead.sms_opt_in = cleaned.fields["sms_opt_in"]
    if "consent" in cleaned.fields:
        lead.consent = cleaned.fields["consent"]


def _new_lead_values(cleaned: CleanLead) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: value
        for name, value in cleaned.fields.items()
        if name not in ("opt_in", "sms_opt_in", "consent")
    }
    values.update(
        tags=list(cleaned.tags),
        custom_fields=dict(cleaned.custom_fields),
        counter=1,
        opt_in=False,
        sms_opt_in=False,
    )
    return values


def apply_to_new_lead(lead: Lead, cleaned: CleanLead, context: RegistrationContext) -> None:
    """Fill a lead registering for the first time (a held one, made before) from the input."""
    for name, value in _new_lead_values(cleaned).items():
        setattr(lead, name, value)
    _apply_consent(lead, cleaned)
    _apply_context(lead, context)


def new_lead(
    workspace_id: str, origin_id: str, cleaned: CleanLead, context: RegistrationContext
) -> Lead:
    """A new lead made from the input, as `apply_to_new_lead` fills one: made with its values
    (`models.base.made`), without a setter's attribute events for each, so its name's search
    keys are set here rather than by `Lead`'s validator."""
    values = _new_lead_values(cleaned)
    lead = made(
        Lead,
        workspace_id=workspace_id,
        origin_id=origin_id,
        first_name_key=search_key(values.get("first_name")),
        last_name_key=search_key(values.get("last_name")),
        **values,
    )
    _apply_consent(lead, cleaned)
    _apply_context(lead, context)
    return lead


def merge_into_lead(
    lead: Lead, cleaned: CleanLead, context: RegistrationContext, taken: set[str]
) -> None:
    """Fill missing identifiers (unless another lead holds them), overwrite given profile fields,
    keep first-touch attribution, merge custom fields and tags, count the registration, and lift
    an opt-out unless told not to."""
    tags = list(lead.tags or [])
    tags.extend(tag for tag in cleaned.tags if tag not in tags)
    # Refused before anything changed: a batch goes on with its other inputs.
    if len(tags) > MAX_TAGS:
        raise ValidationFailed([FieldError("tags", f"A lead has at most {MAX_TAGS} tags")])
    fields = cleaned.fields
    for name in IDENTIFIERS:
        if fields.get(name) and not getattr(lead, name) and name not in taken:
            setattr(lead, name, fields[name])
    for name in PROFILE_FIELDS:
        if name in fields:
            _change(lead, name, fields[name])
    for name in ATTRIBUTION_FIELDS:
        if name in fields and not getattr(lead, name):
            setattr(lead, name, fields[name])
    _change(lead, "tags", tags)
    _change(lead, "custom_fields", {**(lead.custom_fields or {}), **cleaned.custom_fields})
    lead.counter = (lead.counter or 0) + 1
    _change(lead, "points", (lead.points or 0) + fields.get("points", 0))
    if not cleaned.do_not_reset_opt_out:
        _change(lead, "opted_out_at", None)
    _apply_consent(lead, cleaned)
    _apply_context(lead, context)
    lead.updated_at = utcnow()


def _change(lead: Lead, name: str, value: Any) -> None:
    """Set the attribute unless it holds `value` already: most of an import's updates give the
    values the lead has, and each set costs its attribute events (and a name's, its search
    key's validator) for an UPDATE that would leave the column out anyway."""
    if getattr(lead, name) != value:
        setattr(lead, name, value)
