"""Small builders for test data: each test makes the world it needs, no more."""

from __future__ import annotations

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
