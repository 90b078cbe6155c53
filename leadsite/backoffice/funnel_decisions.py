"""Funnel editor: a stage's decisions, where journeys go when the stage is finished."""

from __future__ import annotations

from flask import abort, request
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.funnel_changes import find_stage
from leadsite.backoffice.funnel_decision_forms import DecisionsForm
from leadsite.backoffice.funnel_edit import data_point_choices, funnel_or_404, saved, stages_of
from leadsite.data_point_usage import condition_data_points
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.models import Funnel, Stage

DECISIONS_TEMPLATE = "backoffice/funnels/decisions.html"
EDITS = ("add", "remove", "up", "rule")


def _page(funnel: Funnel, stage: Stage, form: DecisionsForm, status: int = 200) -> Response:
    """The decisions form: a page of its own, or the form alone for htmx (inside its stage)."""
    return render_page_or_block(
        DECISIONS_TEMPLATE, "decisions_form", status=status, funnel=funnel, stage=stage, form=form
    )


@bp.route("/funnels/edit/<funnel_id>/stages/<stage_id>/decisions", methods=["GET", "POST"])
def stage_decisions(funnel_id: str, stage_id: str) -> Response:
    """Edit a stage's branches (a condition → a later stage or the end, first match wins) and
    its "otherwise". The add, remove, move up and add-a-rule buttons post `edit=<verb>:<n>`
    and get the form back changed, nothing saved; a bad branch answers 422 with the reason."""
    funnel = funnel_or_404(funnel_id)
    stage = find_stage(funnel, stage_id)
    if stage is None:
        abort(404)
    # An archived data point stays on offer to the branches that already read it.
    reads = set().union(*(condition_data_points(d.get("condition")) for d in stage.decisions or []))
    options = {
        "stage": stage,
        "stages": stages_of(funnel),
        "data_points": data_point_choices(reads),
    }
    form = DecisionsForm(**options)
    verb, _, place = request.form.get("edit", "").partition(":")
    if request.method == "POST" and verb in EDITS:
        data = form.edited(verb, int(place) if place.isdigit() else -1)
        return _page(funnel, stage, DecisionsForm(formdata=None, data=data, **options))
    if form.validate_on_submit():
        stage.decisions = form.decisions() or None
        stage.otherwise = form.otherwise.data or None
        db.session.commit()
        return saved(funnel, f"Decisions of “{stage.name}” saved.", "stages", f"stage-{stage.id}")
    return _page(funnel, stage, form, status=422 if request.method == "POST" else 200)
