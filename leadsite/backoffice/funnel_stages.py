"""Funnel editor: add, edit (name, delay, entry condition), reorder and delete stages."""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from leadsite import funnels
from leadsite.backoffice import bp
from leadsite.backoffice.forms import EmptyForm
from leadsite.backoffice.funnel_changes import (
    DOWN,
    UP,
    delete_stage,
    find_stage,
    journeys_in_stage,
    move_stage,
)
from leadsite.backoffice.funnel_edit import (
    data_point_choices,
    funnel_or_404,
    render_edit,
    saved,
)
from leadsite.backoffice.funnel_stage_forms import NewStageForm, StageForm
from leadsite.data_point_usage import condition_data_points
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.journeys.decisions import stages_leading_to
from leadsite.models import Funnel, Stage

STAGE_TEMPLATE = "backoffice/funnels/stage.html"


def _stage_or_404(funnel: Funnel, stage_id: str) -> Stage:
    stage = find_stage(funnel, stage_id)
    if stage is None:
        abort(404)
    return stage


def _stage_page(funnel: Funnel, form: StageForm, status: int = 200) -> Response:
    """The stage form: a page of its own, or the form alone for htmx (in place of the stage)."""
    return render_page_or_block(
        STAGE_TEMPLATE, "stage_form", status=status, funnel=funnel, stage=form.stage, form=form
    )


@bp.get("/funnels/edit/<funnel_id>/stages")
def stages_index(funnel_id: str) -> Response:
    """The stages block of the edit page (htmx "Cancel" asks for it); browsers get the page."""
    funnel = funnel_or_404(funnel_id)
    if not is_htmx():
        return redirect(url_for("backoffice.funnel_edit", funnel_id=funnel.id) + "#stages")
    return render_edit(funnel, "stages")


@bp.post("/funnels/edit/<funnel_id>/stages")
def stage_create(funnel_id: str) -> Response:
    """Add a stage at the end (no condition: every journey enters it)."""
    funnel = funnel_or_404(funnel_id)
    form = NewStageForm()
    if not form.validate_on_submit():
        return render_edit(funnel, "stages", status=422, new_stage_form=form)
    stage = funnels.add_stage(funnel, form.name.data)
    db.session.commit()
    return saved(funnel, f"Stage “{stage.name}” added.", "stages", f"stage-{stage.id}")


@bp.route("/funnels/edit/<funnel_id>/stages/<stage_id>", methods=["GET", "POST"])
def stage_edit(funnel_id: str, stage_id: str) -> Response:
    """Edit a stage's name, delay and entry condition (rules on the lead and its data)."""
    funnel = funnel_or_404(funnel_id)
    stage = _stage_or_404(funnel, stage_id)
    offered = data_point_choices(condition_data_points(stage.condition))
    form = StageForm(data_points=offered, stage=stage)
    if request.method == "POST" and request.form.get("add_rule"):
        # "Add a rule": the same form with one empty row more than was sent, nothing saved.
        if not form.added_blank:
            form.add_blank_rule(force=True)
        return _stage_page(funnel, form)
    if form.validate_on_submit():
        stage.name = form.name.data
        stage.delay_minutes = form.delay_minutes.data
        stage.condition = form.condition()
        db.session.commit()
        return saved(funnel, f"Stage “{stage.name}” saved.", "stages", f"stage-{stage.id}")
    return _stage_page(funnel, form, status=422 if request.method == "POST" else 200)


@bp.post("/funnels/edit/<funnel_id>/stages/<stage_id>/move")
def stage_move(funnel_id: str, stage_id: str) -> Response:
    """Move a stage one place up or down; journeys meet the stages in this order."""
    funnel = funnel_or_404(funnel_id)
    stage = _stage_or_404(funnel, stage_id)
    direction = request.form.get("direction")
    if direction not in (UP, DOWN):
        abort(400, "Move a stage up or down.")
    move_stage(stage, direction)
    db.session.commit()
    return saved(funnel, f"Stage “{stage.name}” moved {direction}.", "stages", f"stage-{stage.id}")


@bp.route("/funnels/edit/<funnel_id>/stages/<stage_id>/delete", methods=["GET", "POST"])
def stage_delete(funnel_id: str, stage_id: str) -> Response:
    """Confirm (a page without JavaScript; `hx-confirm` with it), then delete the stage."""
    funnel = funnel_or_404(funnel_id)
    stage = _stage_or_404(funnel, stage_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        body = render_template(
            "backoffice/funnels/stage_delete.html",
            funnel=funnel,
            stage=stage,
            form=form,
            journeys=journeys_in_stage(stage),
            leading_here=stages_leading_to(stage.id, funnel.stages),
        )
        return make_response(body, 200)
    name = stage.name
    delete_stage(stage)
    db.session.commit()
    return saved(funnel, f"Stage “{name}” deleted.", "stages", "stages")
