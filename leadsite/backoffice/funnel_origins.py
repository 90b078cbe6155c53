"""Funnel editor: origins, the doors leads come in by. Add, configure (form builder), close."""

from __future__ import annotations

from flask import abort, current_app, flash, g, redirect, request, url_for
from werkzeug.wrappers import Response

from leadsite import funnels
from leadsite.accounts import publishable_tokens
from leadsite.api.origins import hook_url
from leadsite.backoffice import bp
from leadsite.backoffice.form_builder import OPERATOR_LABELS, WIDGETS, kind_of
from leadsite.backoffice.form_preview import form_preview
from leadsite.backoffice.funnel_changes import find_origin, set_origin_active
from leadsite.backoffice.funnel_edit import funnel_or_404, render_edit, saved
from leadsite.backoffice.funnel_origin_forms import (
    FORM_KINDS,
    KIND_LABELS,
    NewOriginForm,
    OriginForm,
    default_form,
)
from leadsite.backoffice.funnel_origin_log import log_view
from leadsite.backoffice.funnel_origin_mapping import Trial, parse_mapping_text, try_mapping
from leadsite.backoffice.funnel_snippets import origin_snippets
from leadsite.data_point_usage import origin_data_points
from leadsite.data_points import workspace_data_points
from leadsite.embed_violations import origin_violations
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.models import DataPoint, Funnel, Origin, OriginKind

ORIGIN_TEMPLATE = "backoffice/funnels/origin.html"


def _origin_or_404(funnel: Funnel, origin_id: str) -> Origin:
    origin = find_origin(funnel, origin_id)
    if origin is None:
        abort(404)
    return origin


def _origin_page(
    origin: Origin,
    form: OriginForm,
    status: int = 200,
    block: str = "origin_form",
    trial: Trial | None = None,
    focus: str | None = None,
    verb: str | None = None,
) -> Response:
    """The origin's page (settings, hook URL, mapping, log), or one block of it for htmx."""
    return render_page_or_block(
        ORIGIN_TEMPLATE,
        block,
        status=status,
        funnel=origin.funnel,
        origin=origin,
        form=form,
        focus=focus,
        verb=verb,
        kind_of=kind_of,
        widgets=WIDGETS,
        operators=OPERATOR_LABELS,
        preview=form_preview(form) if form.has_form else None,
        kind_label=KIND_LABELS.get(origin.kind, origin.kind),
        snippets=origin_snippets(
            origin, current_app.config["BASE_URL"], publishable_tokens(origin.workspace_id)
        ),
        hook_url=hook_url(origin),
        violations=origin_violations(origin) if origin.kind == OriginKind.EMBED else [],
        log=log_view(origin, request.args),
        trial=trial,
    )


def _offered_points(origin: Origin) -> list[DataPoint]:
    """The data points the origin's form builder offers: not archived ones it does not use."""
    return workspace_data_points(g.workspace.id, archived=False, keep=origin_data_points(origin))


@bp.get("/funnels/edit/<funnel_id>/origins")
def origins_index(funnel_id: str) -> Response:
    """The origins block of the edit page for htmx; browsers get the page."""
    funnel = funnel_or_404(funnel_id)
    if not is_htmx():
        return redirect(url_for("backoffice.funnel_edit", funnel_id=funnel.id) + "#origins")
    return render_edit(funnel, "origins")


@bp.post("/funnels/edit/<funnel_id>/origins")
def origin_create(funnel_id: str) -> Response:
    """Add an origin of the chosen kind; it gets its random ref at once."""
    funnel = funnel_or_404(funnel_id)
    form = NewOriginForm()
    if not form.validate_on_submit():
        return render_edit(funnel, "origins", status=422, new_origin_form=form)
    fields = {}
    if form.kind.data in FORM_KINDS:
        fields["form_fields"] = default_form(funnel.identifier)
    origin = funnels.add_origin(funnel, form.kind.data, form.name.data, **fields)
    db.session.commit()
    return saved(funnel, f"Origin “{origin.name}” added: ref {origin.ref}.", "origins", origin.id)


@bp.route("/funnels/edit/<funnel_id>/origins/<origin_id>", methods=["GET", "POST"])
def origin_edit(funnel_id: str, origin_id: str) -> Response:
    """An origin's settings: name, allowed sites, and for forms their fields and texts."""
    funnel = funnel_or_404(funnel_id)
    origin = _origin_or_404(funnel, origin_id)
    form = OriginForm(origin=origin, data_points=_offered_points(origin))
    action = request.form.get("builder") if form.has_form else None
    if action is not None:
        # A move in the form builder (add, reorder, remove, preview): shown, not saved.
        focus = form.builder_action(action)
        status = 422 if form.new_label.errors else 200
        return _origin_page(origin, form, status, focus=focus, verb=action.partition(":")[0])
    if form.validate_on_submit():
        form.apply()
        db.session.commit()
        flash(f"Origin “{origin.name}” saved.", "success")
        if not is_htmx():
            return redirect(
                url_for("backoffice.origin_edit", funnel_id=funnel.id, origin_id=origin.id)
            )
        form = OriginForm(formdata=None, origin=origin, data_points=_offered_points(origin))
        return _origin_page(origin, form)
    return _origin_page(origin, form, status=422 if request.method == "POST" else 200)


@bp.post("/funnels/edit/<funnel_id>/origins/<origin_id>/preview")
def origin_preview(funnel_id: str, origin_id: str) -> Response:
    """The form as the builder has it now, saved or not: the preview block for htmx, which
    posts the builder on every change; browsers get the origin's page with it."""
    funnel = funnel_or_404(funnel_id)
    origin = _origin_or_404(funnel, origin_id)
    if origin.kind not in FORM_KINDS:
        abort(404)
    form = OriginForm(origin=origin, data_points=_offered_points(origin))
    return _origin_page(origin, form, block="form_preview")


@bp.post("/funnels/edit/<funnel_id>/origins/<origin_id>/active")
def origin_toggle(funnel_id: str, origin_id: str) -> Response:
    """Deactivate an origin (it registers nobody, its ref answers 404) or reopen it."""
    funnel = funnel_or_404(funnel_id)
    origin = _origin_or_404(funnel, origin_id)
    active = request.form.get("active") == "1"
    set_origin_active(origin, active)
    db.session.commit()
    state = "reopened" if active else "deactivated: it registers nobody"
    if request.form.get("from") == "origin":
        flash(f"Origin “{origin.name}” {state}.", "success")
        return redirect(url_for("backoffice.origin_edit", funnel_id=funnel.id, origin_id=origin.id))
    return saved(funnel, f"Origin “{origin.name}” {state}.", "origins", origin.id)


@bp.get("/funnels/edit/<funnel_id>/origins/<origin_id>/log")
def origin_log(funnel_id: str, origin_id: str) -> Response:
    """The origin's ingestion log: the list alone for htmx (a filter, or with `after` the next
    rows for "Load more"); browsers get the origin's page showing that part of the log."""
    funnel = funnel_or_404(funnel_id)
    origin = _origin_or_404(funnel, origin_id)
    form = OriginForm(origin=origin, data_points=_offered_points(origin))
    block = "log_rows" if request.args.get("after") else "origin_log"
    return _origin_page(origin, form, block=block)


@bp.post("/funnels/edit/<funnel_id>/origins/<origin_id>/try")
def origin_try(funnel_id: str, origin_id: str) -> Response:
    """The "try it" box: the lead a pasted payload makes under the mapping as typed (saved or
    not), with the validation errors registering would meet. Nothing is saved."""
    funnel = funnel_or_404(funnel_id)
    origin = _origin_or_404(funnel, origin_id)
    form = OriginForm(origin=origin, data_points=_offered_points(origin))
    mapping, problems = parse_mapping_text(form.mapping.data or "")
    if problems:
        trial = Trial(problem="Mend the mapping first: " + "; ".join(problems))
    else:
        trial = try_mapping(funnel, mapping, form.try_payload.data or "")
    return _origin_page(origin, form, block="try_result", trial=trial)


@bp.post("/funnels/edit/<funnel_id>/origins/<origin_id>/hook-secret")
def origin_hook_rotate(funnel_id: str, origin_id: str) -> Response:
    """A new secret for the origin's hook URL; the old URL answers 404 at once."""
    funnel = funnel_or_404(funnel_id)
    origin = _origin_or_404(funnel, origin_id)
    if origin.kind != OriginKind.API:
        abort(404)
    had = origin.hook_secret is not None
    funnels.rotate_hook_secret(origin)
    db.session.commit()
    flash("New hook URL: the old one no longer works." if had else "Hook URL made.", "success")
    return redirect(url_for("backoffice.origin_edit", funnel_id=funnel.id, origin_id=origin.id))
