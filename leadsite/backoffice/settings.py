"""Back-office settings: the workspace itself (administrators only), and the settings home."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from leadsite.backoffice import bp
from leadsite.backoffice.settings_forms import WorkspaceForm
from leadsite.backoffice.settings_places import time_zones
from leadsite.backoffice.workspace import administrator_required
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.models import Funnel, Origin, OriginKind


@bp.get("/settings/")
def settings_index() -> object:
    """Settings home: the workspace for administrators; managers may only read the mailbox."""
    return redirect(
        url_for("backoffice.workspace_edit")
        if g.membership.is_administrator
        else url_for("backoffice.mailbox_index")
    )


@bp.route("/settings/workspace", methods=["GET", "POST"])
@administrator_required
def workspace_edit() -> object:
    """Edit the workspace's name, time zone, default country, sender email and the API origin
    that serves API calls naming none."""
    workspace = g.workspace
    form = WorkspaceForm(obj=workspace, api_origins=_api_origin_choices(workspace.id))
    if form.validate_on_submit():
        form.populate_obj(workspace)
        db.session.commit()
        flash("Workspace settings saved.", "success")
        return redirect(url_for("backoffice.workspace_edit"))
    status = 422 if request.method == "POST" else 200
    return render_page_or_block(
        "backoffice/settings/workspace.html",
        "workspace_form",
        status=status,
        form=form,
        time_zones=time_zones(),
    )


def _api_origin_choices(workspace_id: str) -> list[tuple[str, str]]:
    rows = db.session.execute(
        db.select(Origin.id, Funnel.name, Origin.name)
        .join(Funnel, Funnel.id == Origin.funnel_id)
        .where(Origin.workspace_id == workspace_id, Origin.kind == OriginKind.API)
        .order_by(Funnel.name, Origin.name)
    )
    return [(origin_id, f"{funnel}: {origin}") for origin_id, funnel, origin in rows]
