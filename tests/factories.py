"""Small builders for test data: each test makes the world it needs, no more."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from leadsite import accounts, funnels
from leadsite.extensions import db
from leadsite.journeys import start_journey
from leadsite.models import (
    DataPoint,
    DataPointType,
    Funnel,
    FunnelStatus,
    Journey,
    JourneyData,
    Lead,
    Origin,
    OriginKind,
    Role,
    User,
    Workspace,
)

PASSWORD = "correct horse battery staple"
_sequence = count(1)


def workspace(name: str | None = None) -> Workspace:
    n = next(_sequence)
    ws, _ = accounts.get_or_create_workspace(name or f"Workspace {n}", f"ws-{n}")
    db.session.commit()
    return ws


def user(
    ws: Workspace | None = None,
    role: Role = Role.ADMINISTRATOR,
    email: str | None = None,
    password: str = PASSWORD,
) -> User:
    ws = ws or workspace()
    person = accounts.set_user(email or f"user{next(_sequence)}@example.com", password)
    accounts.add_member(person, ws, role)
    db.session.commit()
    return person


def funnel(ws: Workspace, name: str = "Onboarding", **fields: object) -> Funnel:
    fields.setdefault("status", FunnelStatus.ACTIVE)
    item = Funnel(workspace_id=ws.id, name=name, **fields)
    db.session.add(item)
    db.session.commit()
    return item


def origin(fnl: Funnel, kind: OriginKind = OriginKind.API, **fields: object) -> Origin:
    item = funnels.add_origin(fnl, kind, f"{kind} origin", **fields)
    db.session.commit()
    return item


def lead(ws: Workspace, **fields: object) -> Lead:
    fields.setdefault("email", f"lead{next(_sequence)}@example.com")
    item = Lead(workspace_id=ws.id, **fields)
    db.session.add(item)
    db.session.commit()
    return item


def data_point(ws: Workspace, name: str = "company", **fields: object) -> DataPoint:
    fields.setdefault("label", name.replace("_", " ").capitalize())
    fields.setdefault("type", DataPointType.TEXT)
    item = DataPoint(workspace_id=ws.id, name=name, **fields)
    db.session.add(item)
    db.session.commit()
    return item


def journey(ld: Lead, fnl: Funnel, org: Origin | None = None) -> Journey:
    item = start_journey(ld, fnl, org)
    db.session.add(item)
    db.session.commit()
    return item


def journey_value(jrn: Journey, point: DataPoint, value: object) -> JourneyData:
    item = JourneyData(journey=jrn, data_point=point, value=value)
    db.session.add(item)
    db.session.commit()
    return item


def api_key(ws: Workspace) -> str:
    """A new API key of `ws`; returns the secret a client sends."""
    _, secret = accounts.create_api_key(ws, "Test key")
    db.session.commit()
    return secret


def publishable_key(ws: Workspace, *origins: Origin) -> str:
    """A publishable key of `ws` bound to `origins`; returns the token a web page sends."""
    key = accounts.create_publishable_key(ws, "Web page", [o.id for o in origins])
    db.session.commit()
    return key.token or ""


def staged_funnel(ws: Workspace, **fields: object) -> Funnel:
    """An active funnel with two stages of activities."""
    from leadsite.models import ActivityKind

    item = funnel(ws, **fields)
    first = funnels.add_stage(item, "Welcome")
    funnels.add_activity(first, ActivityKind.EMAIL_LEAD, "Welcome email")
    funnels.add_activity(first, ActivityKind.LEAD_TASK, "Fill in your profile")
    second = funnels.add_stage(item, "Follow-up")
    funnels.add_activity(second, ActivityKind.STAFF_TASK, "Call")
    db.session.commit()
    return item


def stage(
    fnl: Funnel, name: str, condition: dict | None = None, delay_minutes: int = 0
) -> funnels.Stage:
    """A stage appended to `fnl`, with its condition (null: always entered)."""
    item = funnels.add_stage(fnl, name, condition)
    item.delay_minutes = delay_minutes
    db.session.commit()
    return item


def activity(
    stg: funnels.Stage, kind: str, title: str | None = None, **config: object
) -> funnels.Activity:
    """An activity appended to `stg`; `config` is its kind's settings (subject, status, ...)."""
    item = funnels.add_activity(stg, kind, title or kind.replace("_", " ").capitalize(), **config)
    db.session.commit()
    return item


# ---- Leads in the back-office: leads registered through the pipeline, deliveries ----


def registered(org: Origin, **fields: object) -> Lead:
    """A lead registered through `org` by the pipeline, with its journey, events and steps."""
    from leadsite.registration import LeadInput, RegistrationContext, register

    return register(org, LeadInput(**fields), RegistrationContext()).lead


def delivery_attempt(
    ld: Lead,
    success: bool = False,
    status_code: int | None = 500,
    error: str | None = "Internal Server Error",
    target: str = "https://hooks.example.com/leads",
):
    """A webhook message of `ld` tried once, with its attempt; returns the attempt."""
    from leadsite.models import Channel, DeliveryAttempt, MessageStatus, OutboxMessage

    message = OutboxMessage(
        workspace_id=ld.workspace_id,
        lead_id=ld.id,
        channel=Channel.WEBHOOK,
        target=target,
        payload={"type": "lead.created"},
        status=MessageStatus.DELIVERED if success else MessageStatus.DEAD,
        attempts=1,
        last_error=error,
    )
    db.session.add(message)
    db.session.flush()
    attempt = DeliveryAttempt(
        message_id=message.id,
        workspace_id=ld.workspace_id,
        lead_id=ld.id,
        channel=Channel.WEBHOOK,
        target=target,
        success=success,
        status_code=status_code,
        error=error,
        duration_ms=42,
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


# ---- Settings pages: webhook endpoints and their attempts, emails in the outbox ----

from leadsite.models import WebhookEndpoint as WebhookEndpointModel  # noqa: E402


def webhook_endpoint(
    ws: Workspace, url: str = "https://hooks.example.com/leadsite", **fields: object
) -> WebhookEndpointModel:
    """A workspace-wide webhook endpoint with its own secret, subscribed to every event."""
    from leadsite.accounts import new_webhook_secret
    from leadsite.outbox.event_types import WEBHOOK_EVENTS

    fields.setdefault("events", list(WEBHOOK_EVENTS))
    fields.setdefault("secret", new_webhook_secret())
    item = WebhookEndpointModel(workspace_id=ws.id, url=url, **fields)
    db.session.add(item)
    db.session.commit()
    return item


def waiting_message(
    endpoint: WebhookEndpointModel, attempts: int = 0, due_in: timedelta = timedelta(0)
):
    """A webhook message to `endpoint` still to send: pending, or retrying after `attempts`."""
    from leadsite.models import Channel, OutboxMessage, utcnow

    message = OutboxMessage(
        workspace_id=endpoint.workspace_id,
        endpoint_id=endpoint.id,
        channel=Channel.WEBHOOK,
        target=endpoint.url,
        payload={"type": "lead.created", "data": {}},
        attempts=attempts,
        last_error="answered 503" if attempts else None,
        next_attempt_at=utcnow() + due_in,
    )
    db.session.add(message)
    db.session.commit()
    return message


def endpoint_attempt(
    endpoint: WebhookEndpointModel,
    status_code: int | None = 500,
    success: bool = False,
    response: str = "Internal Server Error",
    duration_ms: int = 37,
):
    """A webhook message to `endpoint` tried once (dead unless `success`); returns the attempt."""
    from leadsite.models import Channel, DeliveryAttempt, MessageStatus, OutboxMessage

    message = OutboxMessage(
        workspace_id=endpoint.workspace_id,
        endpoint_id=endpoint.id,
        channel=Channel.WEBHOOK,
        target=endpoint.url,
        payload={"type": "lead.created", "data": {"email": "ada@example.com"}},
        status=MessageStatus.DELIVERED if success else MessageStatus.DEAD,
        attempts=1,
        last_error=None if success else f"answered {status_code}",
    )
    db.session.add(message)
    db.session.flush()
    attempt = DeliveryAttempt(
        message_id=message.id,
        workspace_id=endpoint.workspace_id,
        endpoint_id=endpoint.id,
        channel=Channel.WEBHOOK,
        target=endpoint.url,
        success=success,
        status_code=status_code,
        error=None if success else f"answered {status_code}",
        duration_ms=duration_ms,
        request_excerpt='{"type": "lead.created", "data": {"email": "ada@example.com"}}',
        response_excerpt=response,
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


def email_message(ws: Workspace, to: str = "ada@example.com", subject: str = "Welcome", **fields):
    """An email in the workspace's outbox, as the journeys write them."""
    from leadsite.outbox.email import queue_email

    item = queue_email(ws.id, to, subject, fields.pop("text", f"Hello, {to}."), **fields)
    db.session.commit()
    return item
