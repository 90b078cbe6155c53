"""Back-office data points: the named, typed values journeys collect. List, create, edit, see
where each is used, archive, delete."""

from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from leadsite import data_points
from leadsite.backoffice import bp
from leadsite.backoffice.forms import DATA_POINT_TYPES, DataPointForm, EmptyForm
from leadsite.data_point_usage import Use, data_point_uses
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


def use_url(use: Use) -> str:
    """The back-office page where a use of a data point is changed."""
    if use.activity_id:
        return url_for(
            "backoffice.activity_edit", funnel_id=use.funnel_id, activity_id=use.activity_id
        )
    if use.origin_id:
        return url_for("backoffice.origin_edit", funnel_id=use.funnel_id, origin_id=use.origin_id)
    if use.stage_id:
        return url_for("backoffice.stage_edit", funnel_id=use.funnel_id, stage_id=use.stage_id)
    return url_for("backoffice.funnel_edit", funnel_id=use.funnel_id)


def _page(form: DataPointForm, block: str = "data_points", status: int = 200) -> Response:
    """The list and the form beside it (with where the edited one is used): the whole page, or
    `block` for htmx."""
    return render_page_or_block(
        TEMPLATE,
        block,
        status=status,
        form=form,
        points=data_points.workspace_data_points(g.workspace.id),
        type_labels=TYPE_LABELS,
        uses=data_point_uses(form.editing) if form.editing else [],
        use_url=use_url,
        archive_form=EmptyForm(formdata=None),
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


def _renames_a_used_point(form: DataPointForm, point: DataPoint) -> bool:
    """A new name for a data point that forms or activities read by its name is refused."""
    if form.name.data == point.name:
        return False
    uses = data_point_uses(point)
    if uses:
        places = "1 place reads it" if len(uses) == 1 else f"{len(uses)} places read it"
        form.name.errors = [f"Fixed: {places} by this name (listed below)."]
    return bool(uses)


@bp.route("/data-points/<point_id>/edit", methods=["GET", "POST"])
def data_point_edit(point_id: str) -> Response:
    """Edit a data point; its name is fixed once journeys hold values of it."""
    point = _point_or_404(point_id)
    form = DataPointForm(workspace_id=g.workspace.id, editing=point)
    if form.validate_on_submit() and not _renames_a_used_point(form, point):
        data_points.update_data_point(point, **_fields(form))
        try:
            db.session.commit()
        except IntegrityError:
            return _name_clash(form)
        return _saved(f"Data point “{point.label}” saved.")
    status = 422 if request.method == "POST" else 200
    return _page(form, "data_point_form", status=status)


def _confirm_page(point: DataPoint, form: EmptyForm, status: int = 200) -> Response:
    journeys, uses = data_points.journeys_using(point), data_point_uses(point)
    refusal = data_points.in_use_message(point, journeys, uses) if journeys or uses else None
    body = render_template(
        "backoffice/data_points/delete.html",
        point=point,
        form=form,
        journeys=journeys,
        uses=uses,
        use_url=use_url,
        refusal=refusal,
    )
    return make_response(body, status)


@bp.route("/data-points/<point_id>/delete", methods=["GET", "POST"])
def data_point_delete(point_id: str) -> Response:
    """Ask to confirm, then delete a data point; one that journeys hold values of, or that a
    form, condition, activity or template uses, is refused (409) with the list of its uses.

    Without JavaScript the GET is the confirmation page; htmx asks with `hx-confirm` and POSTs.
    """
    point = _point_or_404(point_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return _confirm_page(point, form)
    label = point.label
    try:
        data_points.delete_data_point(point)
        db.session.commit()
    except (data_points.DataPointInUse, IntegrityError) as error:
        # IntegrityError: a journey got a value of it since the check (the foreign key refuses).
        db.session.rollback()
        if is_htmx():
            message = str(error) if isinstance(error, data_points.DataPointInUse) else None
            message = message or data_points.in_use_message(
                point, data_points.journeys_using(point), []
            )
            return error_page(409, message, title="Not deleted")
        return _confirm_page(point, form, status=409)
    return _saved(f"Data point “{label}” deleted.")


@bp.post("/data-points/<point_id>/archive")
def data_point_archive(point_id: str) -> Response:
    """Archive a data point: journeys keep its values, new forms and editors do not offer it."""
    point = _point_or_404(point_id)
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    data_points.set_archived(point, True)
    db.session.commit()
    return _saved(f"Data point “{point.label}” archived.")


@bp.post("/data-points/<point_id>/unarchive")
def data_point_unarchive(point_id: str) -> Response:
    """Bring an archived data point back: offered in forms and editors again."""
    point = _point_or_404(point_id)
    if not EmptyForm().validate_on_submit():
        abort(400, "The form expired: reload the page and try again.")
    data_points.set_archived(point, False)
    db.session.commit()
    return _saved(f"Data point “{point.label}” is offered again.")
