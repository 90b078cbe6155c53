"""A funnel whose first stage asks a stakeholder, leads registered into it, the emailed link."""

from __future__ import annotations

import re
from typing import Any

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    Channel,
    DataPointType,
    Funnel,
    Journey,
    JourneyStep,
    OutboxMessage,
    Workspace,
)
from leadsite.registration import LeadInput, RegistrationContext, register
from leadsite.registration.inputs import JourneyDataInput
from tests import factories

LINK = re.compile(r"https?://[^/\s]+/s/([A-Za-z0-9_-]+)")
TASK = "Approve the contract"


def stakeholder_funnel(ws: Workspace, delay_minutes: int = 0, **config: Any) -> Funnel:
    """Stage "Review": the stakeholder task (`config`) and nothing else; stage "Welcome": a
    staff task. The workspace has the data points `accountant_email`, `company`, `revenue`
    (a number) and `approval`."""
    factories.data_point(ws, "accountant_email", type=DataPointType.EMAIL, label="Accountant")
    factories.data_point(ws, "company", label="Company")
    factories.data_point(ws, "revenue", type=DataPointType.NUMBER, label="Revenue")
    factories.data_point(ws, "approval", label="Approval")
    funnel = factories.funnel(ws, name="Onboarding")
    review = factories.stage(funnel, "Review", delay_minutes=delay_minutes)
    factories.activity(review, ActivityKind.STAKEHOLDER_TASK, TASK, **config)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.STAFF_TASK, "Call")
    return funnel


def registered(funnel: Funnel, email: str = "ada@example.com", **data: Any) -> Journey:
    """A lead registered through the pipeline (as every door does), with journey data."""
    origin = factories.origin(funnel)
    lead_input = LeadInput(
        email=email,
        first_name="Ada",
        last_name="Lovelace",
        journey_data=[JourneyDataInput(name, value) for name, value in data.items()],
    )
    return register(origin, lead_input, RegistrationContext()).journey


def task(journey: Journey) -> JourneyStep:
    db.session.expire_all()
    return db.session.scalar(db.select(JourneyStep).filter_by(journey_id=journey.id, title=TASK))


def emails_to(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            db.select(OutboxMessage)
            .filter_by(channel=Channel.EMAIL, target=address)
            .order_by(OutboxMessage.created_at)
        )
    )


def emailed_token(address: str) -> str:
    """The token of the latest link emailed to `address`, read from the email's text."""
    message = emails_to(address)[-1]
    match = LINK.search(message.payload["text"])
    assert match, message.payload["text"]
    assert match.group(0) in message.payload["html"]
    return match.group(1)
