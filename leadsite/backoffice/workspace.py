"""The current workspace of a signed-in user, and the role checks that guard views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, flash, g, redirect, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from leadsite.auth.sessions import end_session
from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.models import Membership, Role, Workspace

SESSION_KEY = "workspace_id"


@bp.before_request
@login_required
def load_workspace() -> Response | None:
    """Put the user's current workspace and membership on `g`; every query is scoped by them.

    Only active memberships count, checked on every request: a deactivated one ends the user's
    sessions for that workspace at once, and leaves their other workspaces open."""
    memberships = current_user.active_memberships
    if not memberships:
        end_session()
        flash("You no longer have access to any workspace.", "error")
        return redirect(url_for("auth.login"))
    wanted = session.get(SESSION_KEY, "")
    membership = next((m for m in memberships if m.workspace_id == wanted), memberships[0])
    session[SESSION_KEY] = membership.workspace_id
    g.membership = membership
    g.workspace = membership.workspace
    return None


def current_workspace() -> Workspace:
    return g.workspace


def role_required(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse a view (403) to members below `role`. Administrators may do everything."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            membership: Membership = g.membership
            if role == Role.ADMINISTRATOR and not membership.is_administrator:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


administrator_required = role_required(Role.ADMINISTRATOR)


@bp.post("/workspace/<workspace_id>")
def workspace_switch(workspace_id: str) -> Response:
    """Make another of the user's workspaces the current one (404 for any other id)."""
    membership = db.session.scalar(
        db.select(Membership).filter_by(
            user_id=current_user.id, workspace_id=workspace_id, active=True
        )
    )
    if membership is None:
        abort(404)
    session[SESSION_KEY] = membership.workspace_id
    return redirect(url_for("backoffice.dashboard"))
