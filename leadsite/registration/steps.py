"""The steps of one registration that `register()` and `register_many()` share: what a match
decides, the registration built in memory, and what follows once its rows are written."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadsite.extensions import db
from leadsite.journeys.plan import StagePlan
from leadsite.journeys.waits import recheck_lead
from leadsite.models import (
    Funnel,
    FunnelStatus,
    Journey,
    Lead,
    OnDuplicate,
    Origin,
    WebhookEndpoint,
    utcnow,
)
from leadsite.outbox.notifications import queue_registration_sms
from leadsite.registration.build import Built, build, build_new
from leadsite.registration.errors import (
    Conflict,
    Duplicate,
    FieldError,
    FunnelClosed,
    LeadNotFound,
    ValidationFailed,
)
from leadsite.registration.inputs import RegistrationContext
from leadsite.registration.match import Match
from leadsite.registration.merge import merge_into_lead
from leadsite.registration.notify import queue_notifications
from leadsite.registration.referrals import count_referral
from leadsite.registration.signals import lead_registered
from leadsite.registration.validate import CleanLead, label, without_identifiers

MAX_ATTEMPTS = 5  # a batch that lost a race (or a deadlock) runs again, this often at most


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


@dataclass
class Prepared:
    """A registration built in memory, its rows not written yet."""

    built: Built
    cleaned: CleanLead  # without the identifiers another lead holds
    existed: bool  # it updates a lead that was there before it
    warnings: list[Conflict] = field(default_factory=list)


def prepare(
    origin: Origin,
    funnel: Funnel,
    cleaned: CleanLead,
    context: RegistrationContext,
    plan: list[StagePlan] | None,
    match: Match,
    fresh: Built | None,
    journey: Journey | None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> Prepared:
    """Decide what the match means (a duplicate refused, a lead that must exist, a new lead
    missing a required field), then build the new lead (`fresh`, when built before the match
    and still right) or merge into the matched one, whose journey in this funnel is `journey`.
    Raises a `RegistrationError` having changed nothing."""
    lead = match.lead
    # A held lead (registration.held) was never registered: it is not a duplicate.
    rejects = funnel.on_duplicate == OnDuplicate.REJECT or context.reject_duplicates
    if lead is not None and not lead.held and rejects:
        raise Duplicate(match.by, cleaned.identifier(match.by) or "", lead.id)
    if lead is None and cleaned.must_exist:
        raise LeadNotFound()
    conflicts = match.conflicts
    if lead is None:
        missing = [name for name in cleaned.required_for_new if not cleaned.fields.get(name)]
        if missing:
            raise ValidationFailed(
                [FieldError(name, f"{label(name)} is required for a new lead") for name in missing]
            )
        if conflicts:
            # The new lead goes without the identifiers another lead holds (they are unique).
            cleaned = without_identifiers(cleaned, {c.field for c in conflicts})
            fresh = None
        built = fresh or build_new(origin, funnel, cleaned, context, plan, conflicts, endpoints)
        return Prepared(built, cleaned, existed=False, warnings=conflicts)
    merge_into_lead(lead, cleaned, context, {c.field for c in conflicts})
    built = build(origin, funnel, cleaned, context, plan, lead, journey, conflicts, endpoints)
    return Prepared(built, cleaned, existed=True, warnings=conflicts)


def after_write(
    funnel: Funnel, prepared: Prepared, attach: bool = True, recheck: bool = False
) -> None:
    """What follows a registration once its rows are written, in its transaction: the lead and
    journey attached to the session (unless not `attach`), its waits released (`recheck`: the
    lead existed and has a wait-until waiting), texts and emails queued, referrals counted."""
    built = prepared.built
    if attach:
        # Written, so only attached: the caller gets them in the session, as if loaded.
        db.session.add_all([built.lead, built.journey])
    if recheck:  # fields or journey data changed: a wait-until may be released
        recheck_lead(built.lead)
    if built.created:
        queue_registration_sms(funnel, built.lead)
        if built.lead.referred_by:
            count_referral(built.lead.referred_by)
    lead_registered.send(built.lead, journey=built.journey)  # e.g. the double opt-in email
    if prepared.cleaned.notifications:
        queue_notifications(
            funnel,
            built.lead,
            built.journey,
            prepared.cleaned.notifications,
            built.created,
            prepared.cleaned.request,
        )
