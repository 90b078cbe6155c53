"""The world the concurrency tests register into, and what they read back from the database."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from leadsite.extensions import db
from leadsite.journeys.activities import AUTOMATIC_KINDS
from leadsite.models import (
    ActivityKind,
    Event,
    Journey,
    JourneyStep,
    Lead,
    Membership,
    MessageStatus,
    OriginKind,
    OutboxMessage,
    Role,
    StepStatus,
    User,
    Workspace,
    utcnow,
)
from tests import factories
from tests.servers import eventually

WORKER_TAG = "welcomed"


@dataclass
class World:
    path: str  # of the API origin
    auth: dict[str, str]
    page_ref: str  # of the hosted page


def registration_world(webhook_url: str) -> World:
    """An API origin and a hosted page on a funnel whose first stage the worker runs at once,
    on the lead itself (an email, a tag), while registrations of the same lead keep coming;
    and a webhook endpoint for `lead.created`."""
    ws = factories.workspace("Acme")
    funnel = factories.funnel(ws)
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(welcome, ActivityKind.EMAIL_LEAD, "Welcome email")
    factories.activity(welcome, ActivityKind.ADD_TAG, "Tag", tag=WORKER_TAG)
    factories.activity(welcome, ActivityKind.LEAD_TASK, "Fill in your profile")
    factories.activity(factories.stage(funnel, "Follow-up"), ActivityKind.STAFF_TASK, "Call")
    factories.webhook_endpoint(ws, webhook_url, events=["lead.created"])
    origin = factories.origin(funnel, OriginKind.API)
    page = factories.origin(funnel, OriginKind.PAGE)
    return World(
        f"/api/v1/leads?ref={origin.ref}",
        {"Authorization": f"Bearer {factories.api_key(ws)}"},
        page.ref,
    )


def ada_and_bea() -> tuple[Workspace, User, User, str]:
    """Acme, its administrator Ada and its manager Bea, and Bea's membership's id."""
    ws = factories.workspace("Acme")
    ada = factories.user(ws, email="ada@example.com")
    bea = factories.user(ws, role=Role.MANAGER, email="bea@example.com")
    membership = db.session.scalar(db.select(Membership.id).filter_by(user_id=bea.id))
    return ws, ada, bea, membership


def _worker_busy() -> bool:
    db.session.rollback()  # a fresh snapshot: the server and the worker write from elsewhere
    due = db.select(db.func.count()).where(
        JourneyStep.status == StepStatus.DUE,
        JourneyStep.kind.in_([kind.value for kind in AUTOMATIC_KINDS]),
        JourneyStep.due_at <= utcnow(),
    )
    pending = db.select(db.func.count()).where(OutboxMessage.status == MessageStatus.PENDING)
    return bool(db.session.scalar(due) or db.session.scalar(pending))


def wait_for_the_worker(timeout: float = 30) -> None:
    """Until the worker has run every due step and delivered every message."""
    assert eventually(lambda: not _worker_busy(), timeout=timeout), "the worker never caught up"


@dataclass
class Stored:
    leads: list[Lead]
    journeys: int
    registrations: Counter[str]  # the types of the events registrations wrote


def stored(email: str) -> Stored:
    """The leads with this email, their journeys and the events their registrations wrote
    (the worker's steps write `lead.updated` too, without a `registration`)."""
    db.session.rollback()
    db.session.expire_all()
    leads = list(db.session.scalars(db.select(Lead).filter_by(email=email)))
    ids = [lead.id for lead in leads]
    journeys = db.session.scalar(
        db.select(db.func.count()).select_from(Journey).where(Journey.lead_id.in_(ids))
    )
    events = db.session.execute(db.select(Event.type, Event.payload).where(Event.lead_id.in_(ids)))
    registrations = Counter(kind for kind, payload in events if "registration" in payload)
    return Stored(leads, journeys or 0, registrations)
