"""Small builders for test data: each test makes the world it needs, no more."""

from __future__ import annotations

from itertools import count

from leadsite import accounts, funnels
from leadsite.extensions import db
from leadsite.models import (
    Funnel,
    FunnelStatus,
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
