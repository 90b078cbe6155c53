"""The current workspace of a signed-in user, and the role checks that guard views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from leadsite.access.members import still_a_member
from leadsite.auth.sessions import end_session
from leadsite.backoffice import bp
from leadsite.database import begin_write_transaction
from leadsite.errors import error_page
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
    if request.method not in SAFE_METHODS and not _locks_memberships_itself():
        return _still_a_member(membership)
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _locks_memberships_itself() -> bool:
    """Whether the view is one `role_required` guards with every membership locked."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "locks_memberships", False)


def _still_a_member(membership: Membership) -> Response | None:
    """A change by any member (manager or administrator) reads their membership again, locked
    FOR SHARE for the change's transaction: a deactivation waits for changes under way, and a
    change that waited for a deactivation (or for a row it held) sees it and is refused, 403,
    rather than made after the member lost access. Shared, so members' changes do not wait for
    each other; SQLite's writers took their turn before this read (`_lock_for_writes`).

    Views guarded by `role_required` lock every membership FOR UPDATE instead: taking this
    share first would let two administrators each hold one row the other's lock waits for."""
    if not still_a_member(membership.user_id, membership.workspace_id):
        name = g.workspace.name
        db.session.rollback()  # nothing of the change is kept
        return error_page(403, f"You no longer have access to {name}: nothing was changed.")
    return None


def members_write_turn() -> Response | None:
    """For the views in `OWN_WRITE_LOCK` that write: take the write lock now (SQLite), then
    read the membership again, as every other change does before its work. Their first check
    (`load_workspace`) was made before their slow part (a staff template tried, rendered), in
    a transaction they end before it: a deactivation could land between that check and their
    write, on SQLite and on PostgreSQL alike. Call it with no transaction open (a read ended);
    the 403 page when the member lost access meanwhile, else None with the lock held."""
    begin_write_transaction()
    return _still_a_member(g.membership)


def current_workspace() -> Workspace:
    return g.workspace


def lock_memberships(workspace_id: str) -> list[Membership]:
    """The workspace's memberships, locked for the transaction and read afresh (PostgreSQL;
    SQLite's writers take turns anyway), always in the same order: every administrator's
    change and every change of a role or of access takes them, so they happen one at a time
    and cannot deadlock on each other."""
    return list(
        db.session.scalars(
            db.select(Membership)
            .filter_by(workspace_id=workspace_id)
            .order_by(Membership.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def role_required(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse a view (403) to members below `role`. Administrators may do everything.

    A change (any method but GET and HEAD) checks the role again with the memberships locked,
    so an administrator demoted by another while the change waited is refused, and told why,
    rather than told whatever the view found next (it said the workspace needed an
    administrator), or their change made after they lost the role."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            membership: Membership = g.membership
            if role == Role.ADMINISTRATOR and request.method not in ("GET", "HEAD"):
                lock_memberships(membership.workspace_id)  # refreshes `membership`
                if not (membership.is_administrator and membership.active):
                    return error_page(403, no_longer_administrator(membership))
            if role == Role.ADMINISTRATOR and not membership.is_administrator:
                abort(403)
            return view(*args, **kwargs)

        wrapper.locks_memberships = role == Role.ADMINISTRATOR  # type: ignore[attr-defined]
        return wrapper

    return decorator


def no_longer_administrator(membership: Membership) -> str:
    """What a member deactivated meanwhile, or an administrator demoted meanwhile, is told
    about a change (only administrators are shown the forms of administrators' changes)."""
    name = g.workspace.name
    if not (membership.active and membership.user.active):
        return f"You no longer have access to {name}: nothing was changed."
    return f"You are no longer an administrator of {name}: nothing was changed."


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
