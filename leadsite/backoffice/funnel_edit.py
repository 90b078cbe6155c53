"""Funnel editor pages: create a funnel, and its edit page (settings, stages, origins)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from flask import abort, current_app, flash, g, redirect, request, url_for
from jinja2_fragments.flask import render_block
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from leadsite.accounts import publishable_tokens
from leadsite.backoffice import bp
from leadsite.backoffice.funnel_activity_forms import summary
from leadsite.backoffice.funnel_changes import find_funnel
from leadsite.backoffice.funnel_decision_forms import describe_decisions
from leadsite.backoffice.funnel_forms import FunnelForm
from leadsite.backoffice.funnel_origin_forms import FORM_KINDS, NewOriginForm
from leadsite.backoffice.funnel_origin_forms import KIND_LABELS as ORIGIN_KIND_LABELS
from leadsite.backoffice.funnel_snippets import origin_snippets
from leadsite.backoffice.funnel_stage_forms import NewStageForm, describe_condition
from leadsite.backoffice.outbound import addable_kinds, recipients_allowed
from leadsite.data_points import workspace_data_points
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.models import Funnel, FunnelStatus, Stage
from leadsite.outbox.staff_email import deactivated_members

EDIT_TEMPLATE = "backoffice/funnels/edit.html"


def funnel_or_404(funnel_id: str) -> Funnel:
    """The current workspace's funnel; another workspace's id is a 404 like a missing one."""
    funnel = find_funnel(g.workspace.id, funnel_id, lock=request.method == "POST")
    if funnel is None:
        abort(404)
    return funnel


def data_point_choices(keep: Collection[str] = ()) -> list[tuple[str, str]]:
    """The data points an editor offers as (name, label): not the archived ones, but those in
    `keep` (what the thing edited already reads)."""
    points = workspace_data_points(g.workspace.id, archived=False, keep=keep)
    return [(p.name, p.label) for p in points]


def stages_of(funnel: Funnel) -> list[Stage]:
    """The funnel's stages in order with their activities loaded (two queries)."""
    return list(
        db.session.scalars(
            db.select(Stage)
            .filter_by(funnel_id=funnel.id)
            .order_by(Stage.position, Stage.id)
            .options(selectinload(Stage.activities))
        )
    )


def edit_context(funnel: Funnel, **overrides: Any) -> dict[str, Any]:
    """Everything the edit page's blocks read; a view replaces the form it is answering with."""
    base_url = current_app.config["BASE_URL"]
    keys = publishable_tokens(funnel.workspace_id)
    context: dict[str, Any] = {
        "funnel": funnel,
        "form": FunnelForm(formdata=None, timezone=g.workspace.timezone, funnel=funnel),
        "stages": stages_of(funnel),
        "new_stage_form": NewStageForm(formdata=None),
        "new_origin_form": NewOriginForm(formdata=None),
        "origins": [(o, origin_snippets(o, base_url, keys)) for o in funnel.origins],
        "activity_kinds": addable_kinds(),
        "origin_kinds": ORIGIN_KIND_LABELS,
        "form_kinds": FORM_KINDS,
        "describe_condition": describe_condition,
        "describe_decisions": describe_decisions,
        "activity_summary": summary,
        "data_point_labels": {p.name: p.label for p in workspace_data_points(g.workspace.id)},
        # Addresses left in the settings when their member was deactivated: said, not removed.
        "skipped_recipients": sorted(
            deactivated_members(funnel.workspace_id, funnel.notify_emails or [])
        ),
    }
    context.update(overrides)
    return context


def render_edit(funnel: Funnel, block: str, status: int = 200, **overrides: Any) -> Response:
    """The edit page, or one of its blocks for htmx."""
    return render_page_or_block(
        EDIT_TEMPLATE, block, status=status, **edit_context(funnel, **overrides)
    )


def saved(funnel: Funnel, message: str, block: str, anchor: str = "") -> Response:
    """After a change: htmx gets the fresh block; a browser goes back to the edit page."""
    flash(message, "success")
    if not is_htmx():
        url = url_for("backoffice.funnel_edit", funnel_id=funnel.id)
        return redirect(f"{url}#{anchor}" if anchor else url)
    return render_edit(funnel, block)


@bp.route("/funnels/new", methods=["GET", "POST"])
def funnel_create() -> Response:
    """Create a funnel (a draft by default), then open its edit page."""
    form = FunnelForm(timezone=g.workspace.timezone)
    if request.method == "GET":
        form.status.data = FunnelStatus.DRAFT.value
    if form.validate_on_submit() and recipients_allowed(form.notify_emails, []):
        funnel = Funnel(workspace_id=g.workspace.id)
        form.apply(funnel)
        db.session.add(funnel)
        db.session.commit()
        flash(f"Funnel “{funnel.name}” created. Add its stages and origins.", "success")
        url = url_for("backoffice.funnel_edit", funnel_id=funnel.id)
        if is_htmx():
            response = Response(status=204)
            response.headers["HX-Redirect"] = url
            return response
        return redirect(url)
    status = 422 if request.method == "POST" else 200
    return render_page_or_block(
        "backoffice/funnels/new.html", "funnel_form", status=status, form=form
    )


@bp.route("/funnels/edit/<funnel_id>", methods=["GET", "POST"])
def funnel_edit(funnel_id: str) -> Response:
    """The funnel's edit page; POST saves its settings. The id is the API's (`fnl_...`)."""
    funnel = funnel_or_404(funnel_id)
    form = FunnelForm(timezone=g.workspace.timezone, funnel=funnel)
    if form.validate_on_submit() and recipients_allowed(form.notify_emails, funnel.notify_emails):
        form.apply(funnel)
        db.session.commit()
        response = saved(funnel, "Funnel settings saved.", "funnel_settings", "settings")
        if is_htmx():  # the heading shows the name: swap it too
            head = render_block(EDIT_TEMPLATE, "funnel_head", funnel=funnel, oob=True)
            response.set_data(response.get_data(as_text=True) + head)
        return response
    status = 422 if request.method == "POST" else 200
    return render_edit(funnel, "funnel_settings", status=status, form=form)
