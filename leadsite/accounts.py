"""Service functions for workspaces, users, memberships and API keys. They flush, never commit."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from leadsite.extensions import db
from leadsite.leads import statuses as lead_statuses
from leadsite.models import (
    ALL_SCOPES,
    ApiKey,
    Membership,
    Role,
    Scope,
    User,
    Workspace,
    utcnow,
)
from leadsite.passwords import hash_password

API_KEY_PREFIX = "lsk_"
PUBLISHABLE_KEY_PREFIX = "lpk_"


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "workspace"


def get_or_create_workspace(name: str, slug: str | None = None) -> tuple[Workspace, bool]:
    slug = slug or slugify(name)
    workspace = db.session.scalar(db.select(Workspace).filter_by(slug=slug))
    if workspace is not None:
        return workspace, False
    workspace = Workspace(name=name, slug=slug, webhook_secret=new_webhook_secret())
    db.session.add(workspace)
    db.session.flush()
    lead_statuses.seed_defaults(workspace.id)
    return workspace, True


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def set_user(email: str, password: str, name: str | None = None) -> User:
    """Create the user, or set the password of the existing one with that email."""
    email = email.strip().lower()
    user = db.session.scalar(db.select(User).filter_by(email=email))
    if user is None:
        user = User(email=email, name=name, password_hash=hash_password(password))
        db.session.add(user)
    else:
        user.password_hash = hash_password(password)
        user.active = True
    db.session.flush()
    return user


def add_member(user: User, workspace: Workspace, role: Role) -> Membership:
    """Give `user` `role` in `workspace` (changing the role if already a member)."""
    membership = user.membership_in(workspace.id)
    if membership is None:
        membership = Membership(user=user, workspace=workspace, role=role)
        db.session.add(membership)
    else:
        membership.role = role
    db.session.flush()
    return membership


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    workspace: Workspace,
    name: str,
    created_by: User | None = None,
    scopes: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Make a secret key holding `scopes` (all when None) and return it with its secret, which
    is not stored and cannot be shown again."""
    chosen = ALL_SCOPES if scopes is None else " ".join(s for s in Scope if s in scopes)
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        workspace_id=workspace.id,
        name=name,
        prefix=secret[:12],
        secret_hash=hash_api_key(secret),
        created_by_id=created_by.id if created_by else None,
        scopes=chosen,
    )
    db.session.add(key)
    db.session.flush()
    return key, secret


def create_publishable_key(
    workspace: Workspace, name: str, origin_ids: list[str], created_by: User | None = None
) -> ApiKey:
    """Make a publishable key, bound to API origins of the workspace: it registers leads
    through them from their allowed domains, and does nothing else. Being meant for web pages,
    its token is kept (`key.token`)."""
    token = PUBLISHABLE_KEY_PREFIX + secrets.token_urlsafe(24)
    key = ApiKey(
        workspace_id=workspace.id,
        name=name,
        prefix=token[:12],
        secret_hash=hash_api_key(token),
        created_by_id=created_by.id if created_by else None,
        scopes=Scope.LEADS_WRITE.value,
        publishable=True,
        origin_ids=list(origin_ids),
        token=token,
    )
    db.session.add(key)
    db.session.flush()
    return key


def publishable_tokens(workspace_id: str) -> dict[str, str]:
    """For each API origin of the workspace bound to an active publishable key, the token of
    its newest one (what the origin's browser snippets show)."""
    keys = db.session.scalars(
        db.select(ApiKey)
        .filter_by(workspace_id=workspace_id, publishable=True, revoked_at=None)
        .order_by(ApiKey.created_at)
    )
    return {origin_id: key.token for key in keys for origin_id in key.origin_ids or [] if key.token}


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
