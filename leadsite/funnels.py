"""Service functions for funnels, their stages, activities and origins. They flush, never commit."""

from __future__ import annotations

import secrets
from typing import Any

from leadsite.extensions import db
from leadsite.models import Activity, Funnel, Origin, OriginKind, Stage

REF_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes: the ref is read and typed


def new_ref(length: int = 12) -> str:
    """A random origin reference code: 60 bits, unique by a database constraint."""
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(length))


def add_stage(funnel: Funnel, name: str, condition: dict[str, Any] | None = None) -> Stage:
    stage = Stage(name=name, condition=condition, position=len(funnel.stages))
    funnel.stages.append(stage)
    db.session.flush()
    return stage


def add_activity(stage: Stage, kind: str, title: str, **config: Any) -> Activity:
    activity = Activity(kind=kind, title=title, config=config, position=len(stage.activities))
    stage.activities.append(activity)
    db.session.flush()
    return activity


def new_hook_secret() -> str:
    """The secret of an API origin's inbound URL `/hooks/<ref>/<secret>`: 192 random bits."""
    return secrets.token_urlsafe(24)


def rotate_hook_secret(origin: Origin) -> str:
    """Give the origin a new hook secret; its old hook URL answers 404 from now on."""
    origin.hook_secret = new_hook_secret()
    db.session.flush()
    return origin.hook_secret


def add_origin(funnel: Funnel, kind: OriginKind, name: str, **fields: Any) -> Origin:
    if kind == OriginKind.API:
        fields.setdefault("hook_secret", new_hook_secret())
    origin = Origin(
        workspace_id=funnel.workspace_id,
        funnel=funnel,
        kind=kind,
        name=name,
        ref=new_ref(),
        **fields,
    )
    db.session.add(origin)
    db.session.flush()
    return origin
