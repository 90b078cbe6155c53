"""Settings, statuses (administrators only): the workspace's lead statuses, their names,
colours, order and "closed" flag; a status leads have is deleted only by moving them first."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from leadsite import values
from leadsite.backoffice import bp
from leadsite.backoffice.workspace import administrator_required
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.leads import statuses as lead_statuses
from leadsite.models import LeadStatus

TEMPLATE = "backoffice/settings/statuses.html"
HEX = "Use a colour like #2563eb."


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


class StatusForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired(), Length(max=lead_statuses.MAX_NAME)], filters=[_strip]
    )
    colour = StringField(
        "Colour",
        default="#6b7280",
        validators=[
            DataRequired(),
            Regexp(lead_statuses.COLOUR.pattern + "$", message=HEX),
        ],
    )
    closed = BooleanField("Closed (won, lost: ends the lead's handling)")


def _status_or_404(status_id: str) -> LeadStatus:
    status = db.session.scalar(
        db.select(LeadStatus).filter_by(id=status_id, workspace_id=g.workspace.id)
    )
    if status is None:
        abort(404)
    return status


def _page(
    form: StatusForm | None = None, status: int = 200, block: str = "statuses", **extra: object
) -> Response:
    statuses = lead_statuses.statuses(g.workspace.id)
    by_key = lead_statuses.lead_counts(g.workspace.id)
    return render_page_or_block(
        TEMPLATE,
        block,
        status=status,
        statuses=statuses,
        counts={s.id: by_key.get(s.key, 0) for s in statuses},
        form=form or StatusForm(formdata=None),
        first_status=lead_statuses.FIRST,
        **extra,
    )


def _done(message: str) -> Response:
    flash(message, "success")
    if not is_htmx():
        return redirect(url_for("backoffice.statuses_index"), code=303)
    return _page()


@bp.get("/settings/statuses")
@administrator_required
def statuses_index() -> Response:
    """The statuses in their order, with how many leads have each, and the form to add one."""
    return _page()


@bp.post("/settings/statuses")
@administrator_required
def status_add() -> Response:
    """Add a status at the end; its key (what the API and `Lead.status` use) comes from its
    name and never changes."""
    form = StatusForm()
    if form.validate_on_submit():
        try:
            lead_statuses.add_status(
                g.workspace.id, form.name.data, form.colour.data, form.closed.data
            )
        except values.Invalid as error:
            form.name.errors = [str(error).removeprefix("Name ").capitalize() + "."]
        else:
            db.session.commit()
            return _done(f"Status “{form.name.data}” added.")
    return _page(form, status=422)


@bp.post("/settings/statuses/<status_id>")
@administrator_required
def status_edit(status_id: str) -> Response:
    """Rename a status, change its colour or its "closed" flag (its key stays)."""
    status = _status_or_404(status_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _page(status=422, editing=status.id, edit_form=form)
    status.name, status.colour, status.closed = form.name.data, form.colour.data, form.closed.data
    db.session.commit()
    return _done(f"Status “{status.name}” saved.")


@bp.post("/settings/statuses/<status_id>/<any(up, down):direction>")
@administrator_required
def status_move(status_id: str, direction: str) -> Response:
    """Move a status one place up or down: the board's columns follow this order."""
    status = _status_or_404(status_id)
    lead_statuses.move_status(status, -1 if direction == "up" else 1)
    db.session.commit()
    return _done(f"Status “{status.name}” moved {direction}.")


@bp.post("/settings/statuses/<status_id>/delete")
@administrator_required
def status_delete(status_id: str) -> Response:
    """Delete a status. One that leads have asks where to move them (`move_to`) first."""
    status = _status_or_404(status_id)
    if status.key == lead_statuses.FIRST:
        flash(f"“{status.name}” is the status every new lead gets: rename it instead.", "error")
        return _page(status=409)
    move_to = None
    if request.form.get("move_to"):
        move_to = db.session.scalar(
            db.select(LeadStatus).filter_by(
                workspace_id=g.workspace.id, key=request.form["move_to"]
            )
        )
        if move_to is None or move_to.id == status.id:
            return _page(status=422, deleting=status.id, move_error="Choose another status.")
    try:
        moved = lead_statuses.delete_status(status, move_to)
    except lead_statuses.StatusInUse as in_use:
        db.session.rollback()
        return _page(status=409, deleting=status.id, in_use=in_use.count)
    db.session.commit()
    if move_to is not None and moved:
        noun = "lead" if moved == 1 else "leads"
        return _done(f"{moved:,} {noun} moved to “{move_to.name}”; status “{status.name}” deleted.")
    return _done(f"Status “{status.name}” deleted.")
