"""Back-office data points: the named, typed values journeys collect. List, create, edit, delete."""

from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from leadsite import data_points
from leadsite.backoffice import bp
from leadsite.backoffice.forms import DATA_POINT_TYPES, DataPointForm, EmptyForm
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.models import DataPoint

TEMPLATE = "backoffice/data_points/index.html"
TYPE_LABELS = {choice.value: choice.label for choice in DATA_POINT_TYPES}


def _point_or_404(point_id: str) -> DataPoint:
    """The current workspace's data point; another workspace's id is a 404 like a missing one."""
    point = data_points.find_data_point(g.workspace.id, point_id)
    if point is None:
        abort(404)
    return point


def _new_form() -> DataPointForm:
    return DataPointForm(formdata=None, workspace_id=g.workspace.id)


def _page(form: DataPointForm, block: str = "data_points", status: int = 200) -> Response:
    """The list and the form beside it: the whole page, or `block` for htmx."""
    return render_page_or_block(
        TEMPLATE,
        block,
        status=status,
        form=form,
        points=data_points.workspace_data_points(g.workspace.id),
        type_labels=TYPE_LABELS,
    )


def _fields(form: DataPointForm) -> dict[str, object]:
    return {
        "name": form.name.data,
        "label": form.label.data,
        "type": form.type.data,
        "choices": form.choices.data,
        "help_text": form.help_text.data or None,
    }


def _saved(message: str) -> Response:
    """After a change: htmx gets the fresh list and an empty form; a browser is redirected."""
    flash(message, "success")
    if not is_htmx():
        return redirect(url_for("backoffice.data_points_index"))
    response = _page(_new_form())
    response.headers["HX-Replace-Url"] = url_for("backoffice.data_points_index")
    return response


def _name_clash(form: DataPointForm) -> Response:
    """A concurrent request took the name between validation and commit."""
    db.session.rollback()
    form.name.errors = [f"A data point named “{form.name.data}” already exists."]
    return _page(form, "data_point_form", status=422)


@bp.get("/data-points")
def data_points_index() -> Response:
    """The workspace's data points, with the form to add one."""
    return _page(_new_form())


@bp.post("/data-points")
def data_point_create() -> Response:
    """Add a data point; 422 with the form and its errors when the input is not valid."""
    form = DataPointForm(workspace_id=g.workspace.id)
    if not form.validate_on_submit():
        return _page(form, "data_point_form", status=422)
    point = data_points.create_data_point(g.workspace.id, **_fields(form))
    try:
        db.session.commit()
    except IntegrityError:
        return _name_clash(form)
    return _saved(f"Data point “{point.label}” added.")


@bp.route("/data-points/<point_id>/edit", methods=["GET", "POST"])
def data_point_edit(point_id: str) -> Response:
    """Edit a data point; its name is fixed once journeys hold values of it."""
    point = _point_or_404(point_id)
    form = DataPointForm(workspace_id=g.workspace.id, editing=point)
    if form.validate_on_submit():
        data_points.update_data_point(point, **_fields(form))
        try:
            db.session.commit()
        except IntegrityError:
            return _name_clash(form)
        return _saved(f"Data point “{point.label}” saved.")
    status = 422 if request.method == "POST" else 200
    return _page(form, "data_point_form", status=status)


def in_use_message(point: DataPoint, journeys: int) -> str:
    """Why a data point cannot be deleted, with how many journeys use it."""
    noun = "journey holds a value" if journeys == 1 else "journeys hold values"
    return f"“{point.label}” cannot be deleted: {journeys:,} {noun} of it."


def _confirm_page(point: DataPoint, form: EmptyForm, journeys: int, status: int = 200) -> Response:
    body = render_template(
        "backoffice/data_points/delete.html",
        point=point,
        form=form,
        journeys=journeys,
        refusal=in_use_message(point, journeys) if journeys else None,
    )
    return make_response(body, status)


@bp.route("/data-points/<point_id>/delete", methods=["GET", "POST"])
def data_point_delete(point_id: str) -> Response:
    """Ask to confirm, then delete a data point; one that journeys use is refused (409).

    Without JavaScript the GET is the confirmation page; htmx asks with `hx-confirm` and POSTs.
    """
    point = _point_or_404(point_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return _confirm_page(point, form, data_points.journeys_using(point))
    label = point.label
    try:
        data_points.delete_data_point(point)
        db.session.commit()
    except (data_points.DataPointInUse, IntegrityError):
        # IntegrityError: a journey got a value of it since the check (the foreign key refuses).
        db.session.rollback()
        journeys = data_points.journeys_using(point)
        if is_htmx():
            return error_page(409, in_use_message(point, journeys), title="Not deleted")
        return _confirm_page(point, form, journeys, status=409)
    return _saved(f"Data point “{label}” deleted.")
