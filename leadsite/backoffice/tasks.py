"""My tasks, `/p/tasks`: the staff tasks of active journeys, the earliest due first, done,
skipped or reassigned inline; above them, the steps that failed and wait for someone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.backoffice import bp
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.journeys.engine import StepNotOpen, complete_step
from leadsite.journeys.stakeholder_answers import retry
from leadsite.journeys.tasks import (
    InvalidCursor,
    NotAMember,
    TaskView,
    assign_step,
    failed_steps,
    open_tasks,
    task_counts,
    task_row,
    workspace_step,
)
from leadsite.models import ActivityKind, Funnel, Membership, StepStatus, User, utcnow

PAGE_SIZE = 50
NOT_OPEN = "This step is not open now: it was finished meanwhile, or its journey has ended."
VIEW_LABELS = {
    TaskView.TODO: "Mine and unassigned",
    TaskView.MINE: "Mine",
    TaskView.UNASSIGNED: "Unassigned",
    TaskView.ALL: "Everyone's",
}
DONE_MESSAGES = {"done": "marked done", "skip": "skipped", "retry": "queued to run again"}


def today_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The start and end of today in the workspace's time zone, in UTC: due dates are days."""
    zone = values.zone(g.workspace.timezone)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(), zone).astimezone(UTC)
    return start, datetime.combine(today + timedelta(days=1), time(), zone).astimezone(UTC)


def _view(raw: str | None) -> TaskView:
    try:
        return TaskView(raw or TaskView.TODO)
    except ValueError:
        return TaskView.TODO


def _funnel_arg(raw: str | None) -> str:
    """A funnel of this workspace, or "" (any): a stale or foreign id filters nothing out."""
    funnel_id = (raw or "").strip()[:40]
    funnel = db.session.get(Funnel, funnel_id) if funnel_id else None
    return funnel_id if funnel is not None and funnel.workspace_id == g.workspace.id else ""


def _members() -> list[tuple[str, str]]:
    """(user id, name or email) of the workspace's active members, for "Assigned to"."""
    rows = db.session.execute(
        db.select(User.id, User.name, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == g.workspace.id, Membership.active.is_(True))
        .order_by(User.email)
    )
    return [(user_id, name or email) for user_id, name, email in rows]


def _context(view: TaskView, funnel_id: str) -> dict[str, Any]:
    start_of_today, end_of_today = today_bounds(utcnow())
    return {
        "view": view,
        "funnel_id": funnel_id,
        "views": VIEW_LABELS,
        "counts": task_counts(g.workspace.id, current_user.id, funnel_id),
        "members": _members(),
        "start_of_today": start_of_today,
        "end_of_today": end_of_today,
    }


def _list_url(view: TaskView, funnel_id: str, **more: str) -> str:
    args = {"view": view.value if view != TaskView.TODO else None, "funnel": funnel_id or None}
    return url_for("backoffice.tasks_index", **{k: v for k, v in args.items() if v}, **more)


@bp.get("/tasks")
def tasks_index() -> Response:
    """Open staff tasks (mine and unassigned by default), overdue first, 50 at a time, and the
    failed steps that hold journeys. htmx asks for the list alone (tabs, funnel) or, with
    `after`, for the next rows ("Load more")."""
    view = _view(request.args.get("view"))
    funnel_id = _funnel_arg(request.args.get("funnel"))
    after = request.args.get("after") or None
    try:
        page = open_tasks(
            g.workspace.id, current_user.id, view, funnel_id, after=after, limit=PAGE_SIZE
        )
    except InvalidCursor:
        abort(400, "That “Load more” link is not valid. Start again from the first page.")
    next_url = _list_url(view, funnel_id, after=page.next_cursor) if page.next_cursor else None
    page_only = is_htmx() and after
    extra = (
        {}
        if is_htmx()
        else {
            "funnels": db.session.scalars(
                db.select(Funnel).filter_by(workspace_id=g.workspace.id).order_by(Funnel.name)
            ).all(),
            "attention": failed_steps(g.workspace.id),
        }
    )
    return render_page_or_block(
        "backoffice/tasks.html",
        "task_rows" if page_only else "task_list",
        page=page,
        after=after,
        next_url=next_url,
        list_url=_list_url,
        **_context(view, funnel_id),
        **extra,
    )


def _step_or_404(step_id: str):
    step = workspace_step(g.workspace.id, step_id)
    if step is None:
        abort(404)
    return step


def _after_change(step, message: str, removed: bool, attention_left: int | None = None) -> Response:
    """Back to the list (no JavaScript), or the row again (or nothing: it is gone) with the
    tabs' counts and the flash message. `attention_left`: how many failed steps still need
    attention after acting on one (none left: the section goes)."""
    view = _view(request.form.get("view"))
    funnel_id = _funnel_arg(request.form.get("funnel"))
    flash(message, "success")
    if not is_htmx():
        return redirect(_list_url(view, funnel_id))
    return render_page_or_block(
        "backoffice/tasks.html",
        "task_changed",
        row=None if removed else task_row(step),
        attention_left=attention_left,
        list_url=_list_url,
        **_context(view, funnel_id),
    )


@bp.post("/tasks/<step_id>/<any(done, skip, retry):action>")
def task_action(step_id: str, action: str) -> Response:
    """Mark an open staff task done or skip it, or retry or skip a failed step; the journey
    moves on by its funnel's rules (through `journeys.engine`, which locks it first)."""
    step = _step_or_404(step_id)
    failed = step.status == StepStatus.FAILED
    if step.status != StepStatus.DUE and not failed:
        return error_page(409, NOT_OPEN, title="Not changed")
    if action == "retry" and not failed:
        return error_page(409, "Only a failed step can be retried.", title="Not changed")
    if not failed and step.kind != ActivityKind.STAFF_TASK:
        return error_page(409, "Only staff tasks are done from this page.", title="Not changed")
    try:
        if action == "retry":
            retry(step)  # a stakeholder task: due again, with a new link emailed
        else:
            complete_step(step, actor_id=current_user.id, skipped=action == "skip")
    except StepNotOpen:
        db.session.rollback()
        return error_page(409, NOT_OPEN, title="Not changed")
    db.session.commit()
    left = len(failed_steps(g.workspace.id, limit=1)) if failed and is_htmx() else None
    message = f"“{step.title}” {DONE_MESSAGES[action]}."
    return _after_change(step, message, removed=True, attention_left=left)


@bp.post("/tasks/<step_id>/assign")
def task_assign(step_id: str) -> Response:
    """Give an open staff task to a member of the workspace (`assignee`: a user id, `me`, or
    empty for nobody in particular)."""
    step = _step_or_404(step_id)
    wanted = (request.form.get("assignee") or "").strip()
    user_id = current_user.id if wanted == "me" else wanted or None
    try:
        assign_step(step, user_id)
    except StepNotOpen:
        db.session.rollback()
        return error_page(409, NOT_OPEN, title="Not changed")
    except NotAMember:
        db.session.rollback()
        return error_page(
            422, "Choose a member of this workspace to assign it to.", title="Not assigned"
        )
    db.session.commit()
    who = dict(_members()).get(user_id or "", "nobody in particular")
    return _after_change(step, f"“{step.title}” assigned to {who}.", removed=False)
