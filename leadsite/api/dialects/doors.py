"""What every dialect's door shares: finding the API origin a call is for, by its ref or the
workspace's default, and the success envelope's `warnings`."""

from __future__ import annotations

from typing import Any

from flask import url_for

from leadsite.extensions import db
from leadsite.models import Funnel, Origin, OriginKind, Workspace
from leadsite.registration import Registration

# Built once: every registration runs it. The funnel and workspace come in the same query, and
# `register()` finds them in the session.
ORIGIN_QUERY = (
    db.select(Origin, Funnel, Workspace)
    .join(Origin.funnel)
    .join(Workspace, Workspace.id == Origin.workspace_id)
    .where(
        Origin.ref == db.bindparam("ref"),
        Origin.workspace_id == db.bindparam("workspace_id"),
        Origin.kind == OriginKind.API,
    )
)
DEFAULT_ORIGIN_QUERY = (
    db.select(Origin, Funnel, Workspace)
    .join(Origin.funnel)
    .join(Workspace, Workspace.default_origin_id == Origin.id)
    .where(Workspace.id == db.bindparam("workspace_id"), Origin.kind == OriginKind.API)
)


def api_origin(ref: str, workspace_id: str) -> Origin | None:
    """The workspace's API origin with this ref."""
    row = db.session.execute(ORIGIN_QUERY, {"ref": ref, "workspace_id": workspace_id}).first()
    return row[0] if row is not None else None


def default_origin(workspace_id: str) -> Origin | None:
    """The API origin the workspace chose to serve calls that name none."""
    row = db.session.execute(DEFAULT_ORIGIN_QUERY, {"workspace_id": workspace_id}).first()
    return row[0] if row is not None else None


def no_default_origin_message() -> str:
    """Why a call naming no origin found none, and where to choose one."""
    return (
        "This workspace has no default API origin. Choose one in the back-office under "
        f"Settings → Workspace ({url_for('backoffice.workspace_edit', _external=False)}), "
        "or name an origin with ?ref=."
    )


def warnings_list(registration: Registration) -> list[dict[str, Any]]:
    """The registration's conflicts, for the success envelope's `warnings`."""
    return [conflict.as_dict() for conflict in registration.warnings]
