"""Funnel editor: add, edit, reorder and delete the activities of a stage, each kind its form."""

from __future__ import annotations

from typing import Any

from flask import abort, g, request
from werkzeug.wrappers import Response

from leadsite import funnels
from leadsite.backoffice import bp
from leadsite.backoffice.funnel_activity_forms import (
    FORMS,
    KIND_HELP,
    KIND_LABELS,
    TEMPLATE_HELP,
    ActivityForm,
)
from leadsite.backoffice.funnel_changes import (
    DOWN,
    UP,
    delete_activity,
    find_activity,
    find_stage,
    move_activity,
)
from leadsite.backoffice.funnel_edit import data_point_choices, funnel_or_404, saved
from leadsite.backoffice.outbound import may_configure, recipients_allowed
from leadsite.backoffice.workspace import members_write_turn
from leadsite.data_point_usage import config_data_points
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.journeys.email_preview import PREVIEW_KINDS, preview_journeys
from leadsite.journeys.emails import check_template, sample_budget_problem
from leadsite.journeys.template_check import workspace_variables
from leadsite.leads import statuses as lead_statuses
from leadsite.models import Activity, ActivityKind, Funnel, Membership, Stage, User

ACTIVITY_TEMPLATE = "backoffice/funnels/activity.html"
ADMINISTRATORS_ONLY = (
    "Only administrators add or change webhook activities: they send lead data out."
)


def activity_options(activity: Activity | None = None) -> dict[str, Any]:
    """The workspace's active users (assignees), statuses, data points (what a lead task asks
    for: not archived ones it does not ask for already) and the variables templates may read."""
    users = db.session.scalars(
        db.select(User)
        .join(Membership)
        .where(Membership.workspace_id == g.workspace.id, Membership.active.is_(True))
        .order_by(User.email)
    )
    return {
        "users": [(user.id, user.name or user.email) for user in users],
        "data_points": data_point_choices(config_data_points(activity.config if activity else {})),
        "variables": workspace_variables(g.workspace.id),
        "statuses": [(s.key, s.name) for s in lead_statuses.statuses(g.workspace.id)],
    }


def _form(kind: str, activity: Activity | None = None, empty: bool = False) -> ActivityForm:
    """The form of this kind of activity, filled from the request unless `empty`."""
    if kind not in FORMS:
        abort(404, "This kind of activity cannot be edited here.")
    extra = {"formdata": None} if empty else {}
    return FORMS[kind](activity=activity, options=activity_options(activity), **extra)


def _page(funnel: Funnel, stage: Stage, form: ActivityForm, status: int = 200) -> Response:
    """The activity form: a page of its own, or the form alone for htmx (inside its stage).
    Read-only for a kind the member may not configure."""
    return render_page_or_block(
        ACTIVITY_TEMPLATE,
        "activity_form",
        status=status,
        funnel=funnel,
        stage=stage,
        form=form,
        activity=form.activity,
        kind_label=KIND_LABELS[form.kind],
        kind_help=KIND_HELP[form.kind],
        template_help=TEMPLATE_HELP,
        read_only=not may_configure(form.kind),
        preview_journeys=preview_journeys(funnel) if form.kind in PREVIEW_KINDS else [],
    )


def _recipients_allowed(form: ActivityForm, activity: Activity | None) -> bool:
    """A `notify_staff` activity's recipients, as `recipients_allowed` rules for the member."""
    if form.kind != ActivityKind.NOTIFY_STAFF:
        return True
    kept = (activity.config or {}).get("to") if activity is not None else None
    return recipients_allowed(form.to, kept if isinstance(kept, list) else None)


def _try_templates_first() -> Response | None:
    """Try the posted templates on the sample lead, holding nothing, then take the write lock
    and check the membership again (the 403 page when the member lost access meanwhile).

    These views are in `OWN_WRITE_LOCK`: a template that works for long (up to its budget)
    must not do so while every registration waits for the lock. The read of the signed-in
    user is ended first (a write after a stale read fails on SQLite); the form's validation,
    later, finds the answers remembered (`sample_budget_problem`)."""
    if request.method != "POST":
        return None
    db.session.rollback()
    for name in ("subject", "body"):
        raw = request.form.get(f"activity-{name}", "")
        for source in {raw, raw.strip()}:
            if source and check_template(source) is None:
                sample_budget_problem(source)
    return members_write_turn()


def _activity_or_404(funnel: Funnel, activity_id: str) -> Activity:
    activity = find_activity(funnel, activity_id)
    if activity is None:
        abort(404)
    return activity


@bp.route("/funnels/edit/<funnel_id>/stages/<stage_id>/activities/new", methods=["GET", "POST"])
def activity_create(funnel_id: str, stage_id: str) -> Response:
    """Add an activity of the chosen kind (`?kind=` or the form's `kind`) at the stage's end."""
    if refused := _try_templates_first():
        return refused
    funnel = funnel_or_404(funnel_id)
    stage = find_stage(funnel, stage_id)
    if stage is None:
        abort(404)
    kind = request.values.get("kind", "")
    if kind not in FORMS:
        abort(400, "Choose the kind of activity to add.")
    if not may_configure(kind):
        return error_page(403, ADMINISTRATORS_ONLY, title="Administrators only")
    if request.method == "GET":
        form = _form(kind, empty=True)
        form.title.data = KIND_LABELS[kind]
        return _page(funnel, stage, form)
    form = _form(kind)
    if not form.validate_on_submit() or not _recipients_allowed(form, None):
        return _page(funnel, stage, form, status=422)
    activity = funnels.add_activity(stage, kind, form.title.data, **form.config())
    activity.assignee_id = form.assignee_id()
    db.session.commit()
    return saved(funnel, f"Activity “{activity.title}” added.", "stages", f"activity-{activity.id}")


@bp.route("/funnels/edit/<funnel_id>/activities/<activity_id>", methods=["GET", "POST"])
def activity_edit(funnel_id: str, activity_id: str) -> Response:
    """Edit an activity's title and settings; its kind is fixed (delete and add to change it).
    A manager sees a webhook activity read-only."""
    if refused := _try_templates_first():
        return refused
    funnel = funnel_or_404(funnel_id)
    activity = _activity_or_404(funnel, activity_id)
    form = _form(activity.kind, activity)
    if request.method == "POST" and not may_configure(activity.kind):
        return error_page(403, ADMINISTRATORS_ONLY, title="Administrators only")
    if form.validate_on_submit() and _recipients_allowed(form, activity):
        activity.title = form.title.data
        # Translations have a page of their own (`origin_translations`): the form keeps them.
        translations = (activity.config or {}).get("translations")
        activity.config = {
            **form.config(),
            **({"translations": translations} if translations else {}),
        }
        activity.assignee_id = form.assignee_id()
        db.session.commit()
        return saved(
            funnel, f"Activity “{activity.title}” saved.", "stages", f"activity-{activity.id}"
        )
    status = 422 if request.method == "POST" else 200
    return _page(funnel, activity.stage, form, status=status)


@bp.post("/funnels/edit/<funnel_id>/activities/<activity_id>/move")
def activity_move(funnel_id: str, activity_id: str) -> Response:
    """Move an activity one place up or down in its stage."""
    funnel = funnel_or_404(funnel_id)
    activity = _activity_or_404(funnel, activity_id)
    direction = request.form.get("direction")
    if direction not in (UP, DOWN):
        abort(400, "Move an activity up or down.")
    move_activity(activity, direction)
    db.session.commit()
    return saved(
        funnel,
        f"Activity “{activity.title}” moved {direction}.",
        "stages",
        f"activity-{activity.id}",
    )


@bp.post("/funnels/edit/<funnel_id>/activities/<activity_id>/delete")
def activity_delete(funnel_id: str, activity_id: str) -> Response:
    """Delete an activity; steps journeys already have keep their title and status."""
    funnel = funnel_or_404(funnel_id)
    activity = _activity_or_404(funnel, activity_id)
    title, stage_id = activity.title, activity.stage_id
    delete_activity(activity)
    db.session.commit()
    return saved(funnel, f"Activity “{title}” deleted.", "stages", f"stage-{stage_id}")
