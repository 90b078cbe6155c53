"""The database side of erasure: the lead's row, and every row that copied its data.

Copies are redacted rather than deleted where the row still means something without them (a
delivery happened, a step was done); what exists only to carry the data (pending messages, the
lead's own webhooks, journey data) is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, cast, or_

from leadsite.extensions import db
from leadsite.ingestion.writer import ERASED_COLUMNS, Erased, write_here
from leadsite.models import (
    ApiKey,
    Channel,
    DeliveryAttempt,
    Event,
    IdempotencyRecord,
    IngestionEntry,
    Journey,
    JourneyFile,
    JourneyStep,
    Lead,
    MessageStatus,
    OutboxMessage,
    Signature,
    StakeholderLink,
    WebhookEndpoint,
    utcnow,
)
from leadsite.outbox import event_types
from leadsite.outbox.manage import ERASED_PAYLOAD

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
    "held_submission",
)
ERASED: dict[str, Any] = ERASED_PAYLOAD
REDACTED = "(erased)"
# What a finished step's result keeps: who did it and which message it sent, nothing typed.
STEP_RESULT_KEEPS = ("actor_id", "message_id")
MIN_PHONE_DIGITS = 8  # a shorter run of digits is not taken for the lead's phone


@dataclass(frozen=True)
class Traces:
    """What identified the lead before erasure: what its copies are recognised by."""

    lead_id: str
    workspace_id: str
    email: str | None
    phone: str | None
    unique_id: str | None

    @classmethod
    def of(cls, lead: Lead) -> Traces:
        return cls(lead.id, lead.workspace_id, lead.email, lead.phone, lead.unique_id)

    def named_in(self, cells: Iterable[Any]) -> bool:
        """Whether any of `cells` identifies the lead: its email (any case), unique id or
        phone (in any format, nationally written too). Names are not enough: others share
        them."""
        phone = _digits(self.phone or "")
        for cell in cells:
            text = str(cell if cell is not None else "").strip()
            if not text:
                continue
            if self.email and text.lower() == self.email.lower():
                return True
            if text == self.unique_id:
                return True
            digits = _digits(text).lstrip("0")
            if phone and len(digits) >= MIN_PHONE_DIGITS and phone.endswith(digits):
                return True
        return False


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


Eraser = Callable[[Lead, Traces], None]
_ERASERS: list[Eraser] = []


def eraser(function: Eraser) -> Eraser:
    """Register a function that redacts one kind of copy of a lead's data; it runs inside the
    erasure's transaction, after the lead's own row is emptied, and flushes nothing itself."""
    _ERASERS.append(function)
    return function


def erase_lead(lead: Lead) -> Lead:
    """Erase the lead's personal data and keep an anonymous row: its journeys' steps and the
    counts stay; its timeline's payloads, messages, delivery records, own webhooks, journey
    data, stored API answers and import rows lose what named the lead. Flushes; the caller
    commits."""
    from leadsite.erasure.files import erase_from_imports
    from leadsite.leads.changes import lock_leads  # leadsite.leads.changes imports this package

    lock_leads([lead])  # the lead before its journeys, as every writer of both
    if lead.erased_at is not None:  # erased while this waited for the lock: once is enough
        return lead
    traces = Traces.of(lead)
    for name in PERSONAL_FIELDS:
        setattr(lead, name, None)
    lead.tags, lead.custom_fields = [], {}
    lead.held = False
    lead.status = "erased"
    lead.erased_at = lead.updated_at = utcnow()
    for erase in _ERASERS:
        erase(lead, traces)
    db.session.add(
        Event(
            workspace_id=lead.workspace_id,
            lead_id=lead.id,
            type=event_types.LEAD_ERASED,
            payload={},
        )
    )
    erase_from_imports(traces)
    db.session.flush()
    return lead


@eraser
def _journeys(lead: Lead, traces: Traces) -> None:
    for journey in lead.journeys:
        journey.redirect_url = None
        journey.data.clear()
    steps = db.session.scalars(
        db.select(JourneyStep)
        .join(Journey, Journey.id == JourneyStep.journey_id)
        .where(Journey.lead_id == lead.id, JourneyStep.result.is_not(None))
    )
    for step in steps:
        result = step.result or {}
        step.result = {**{key: result[key] for key in STEP_RESULT_KEEPS if key in result}, **ERASED}


@eraser
def _events(lead: Lead, traces: Traces) -> None:
    db.session.execute(db.update(Event).where(Event.lead_id == lead.id).values(payload=ERASED))


def _redacted_target(model: type[OutboxMessage] | type[DeliveryAttempt], traces: Traces) -> Any:
    """The lead's own address or number as a message's target (staff addresses stay)."""
    own = [value for value in (traces.email, traces.phone) if value]
    return model.channel.in_([Channel.EMAIL, Channel.SMS]) & model.target.in_(own)


@eraser
def _deliveries(lead: Lead, traces: Traces) -> None:
    """Attempts first (they are found through their messages), then the messages: those not
    sent yet are deleted, the others keep their status and lose their content."""
    messages = db.select(OutboxMessage.id).where(OutboxMessage.lead_id == lead.id)
    attempts = or_(DeliveryAttempt.lead_id == lead.id, DeliveryAttempt.message_id.in_(messages))
    db.session.execute(
        db.update(DeliveryAttempt)
        .where(attempts)
        .values(request_excerpt=None, response_excerpt=None, error=None)
    )
    db.session.execute(
        db.update(DeliveryAttempt)
        .where(attempts, _redacted_target(DeliveryAttempt, traces))
        .values(target=REDACTED)
    )
    db.session.execute(
        db.delete(OutboxMessage).where(
            OutboxMessage.lead_id == lead.id, OutboxMessage.status == MessageStatus.PENDING
        )
    )
    db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.lead_id == lead.id)
        .values(payload=ERASED, last_error=None)
    )
    db.session.execute(
        db.update(OutboxMessage)
        .where(OutboxMessage.lead_id == lead.id, _redacted_target(OutboxMessage, traces))
        .values(target=REDACTED)
    )
    # The lead's own WebhookInput endpoints, with their messages (foreign key cascade).
    db.session.execute(db.delete(WebhookEndpoint).where(WebhookEndpoint.lead_id == lead.id))


@eraser
def _stored_api_answers(lead: Lead, traces: Traces) -> None:
    """`Idempotency-Key` answers that carried the lead: a replay answers that it was erased
    (and never registers the person again)."""
    keys = db.select(ApiKey.id).where(ApiKey.workspace_id == lead.workspace_id)
    records = db.session.scalars(
        db.select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id.in_(keys),
            cast(IdempotencyRecord.response_body, Text).contains(lead.id, autoescape=True),
        )
    )
    for record in records:
        record.response_body = {"success": True, "erased": True, "data": {"id": lead.id, **ERASED}}


@eraser
def _held_copies(lead: Lead, traces: Traces) -> None:
    """Held submissions (registration.held) that name the lead: they are deleted, as staff
    would delete them. A workspace has few held leads."""
    held = db.session.scalars(
        db.select(Lead).where(
            Lead.workspace_id == lead.workspace_id, Lead.held.is_(True), Lead.id != lead.id
        )
    )
    for other in held:
        sent = ((other.held_submission or {}).get("input") or {}).values()
        shown = (other.email, other.phone, other.unique_id, other.first_name, other.last_name)
        if traces.named_in([*shown, *(value for value in sent if isinstance(value, str))]):
            db.session.delete(other)


@eraser
def _ingestion_log(lead: Lead, traces: Traces) -> None:
    """The origins' ingestion log keeps each call's outcome and codes; the request and error
    texts go, for the calls that touched the lead and for refused calls whose body named it
    (a refused call names no lead)."""
    values = tuple(value for value in (traces.email, traces.phone, traces.unique_id) if value)
    # The calls this process answered and has not written yet (the same match, in Python).
    write_here(Erased(traces.workspace_id, traces.lead_id, values))
    entries = IngestionEntry.workspace_id == traces.workspace_id
    named = [IngestionEntry.lead_id == traces.lead_id]
    for value in values:
        named.append(IngestionEntry.body.icontains(value, autoescape=True))
        named.append(IngestionEntry.query.icontains(value, autoescape=True))
    db.session.execute(
        db.update(IngestionEntry)
        .where(entries, db.or_(*named))
        .values(dict.fromkeys(ERASED_COLUMNS))
    )


@eraser
def _front_office_evidence(lead: Lead, traces: Traces) -> None:
    """Files the lead uploaded and signatures it gave exist only as its evidence: deleted
    (signatures first: one may name a file)."""
    db.session.execute(db.delete(Signature).where(Signature.lead_id == lead.id))
    db.session.execute(db.delete(JourneyFile).where(JourneyFile.lead_id == lead.id))


@eraser
def _stakeholder_links(lead: Lead, traces: Traces) -> None:
    """The links stakeholders were sent about the lead go, with their answers; the emails that
    carried them (and their delivery records) lose the stakeholder's address, which says whose
    accountant, say, they are."""
    journeys = db.select(Journey.id).where(Journey.lead_id == lead.id)
    links = StakeholderLink.journey_id.in_(journeys)
    addresses = set(db.session.scalars(db.select(StakeholderLink.email).where(links)))
    if addresses:
        messages = db.select(OutboxMessage.id).where(OutboxMessage.lead_id == lead.id)
        db.session.execute(
            db.update(OutboxMessage)
            .where(OutboxMessage.lead_id == lead.id, OutboxMessage.target.in_(addresses))
            .values(target=REDACTED)
        )
        db.session.execute(
            db.update(DeliveryAttempt)
            .where(
                or_(DeliveryAttempt.lead_id == lead.id, DeliveryAttempt.message_id.in_(messages)),
                DeliveryAttempt.target.in_(addresses),
            )
            .values(target=REDACTED)
        )
    db.session.execute(db.delete(StakeholderLink).where(links))
