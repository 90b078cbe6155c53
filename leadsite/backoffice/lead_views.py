"""How the leads list is arranged (filters, sort, columns), and the views staff save of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import or_
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.leads.search import LeadFilters
from leadsite.leads.sort import NEWEST, Sort, sort_named
from leadsite.models import SavedView

# The list's optional columns, in order; the name is always shown.
COLUMNS = {
    "email": "Email",
    "phone": "Phone",
    "origin": "Origin",
    "status": "Status",
    "tags": "Tags",
    "created": "Created",
}
MAX_VIEW_NAME = 80


@dataclass(frozen=True)
class ListArgs:
    """The leads list as the query string asks for it: filters, sort and shown columns."""

    filters: LeadFilters
    sort: Sort
    columns: tuple[str, ...] = tuple(COLUMNS)

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> ListArgs:
        """`col` names the shown columns; `cols` says the column choice was made (so that no
        `col` at all means the name alone), else every column shows."""
        columns = tuple(COLUMNS)
        if args.get("cols"):
            chosen = set(args.getlist("col"))
            columns = tuple(name for name in COLUMNS if name in chosen)
        return cls(LeadFilters.from_args(args), sort_named(args.get("sort")), columns)

    @classmethod
    def from_view(cls, view: SavedView) -> ListArgs:
        args = MultiDict({k: str(v) for k, v in (view.filters or {}).items()})
        args.setlist("col", list(view.columns or []))
        args["cols"] = "1" if view.columns is not None else ""
        args["sort"] = view.sort or ""
        return cls.from_args(args)

    def as_args(self, **changes: Any) -> dict[str, Any]:
        """The query-string arguments that give this list (for links), defaults left out."""
        args: dict[str, Any] = dict(self.filters.as_args())
        if self.sort.key != NEWEST:
            args["sort"] = self.sort.key
        if self.columns != tuple(COLUMNS):
            args.update(cols="1", col=list(self.columns))
        args.update(changes)
        return args

    @property
    def hidden(self) -> str:
        """The columns not shown, space-separated (the table's `data-hide`)."""
        return " ".join(name for name in COLUMNS if name not in self.columns)

    def url(self) -> str:
        return url_for("backoffice.leads_index", **self.as_args())


@bp.app_template_global()
def saved_view_url(view: SavedView) -> str:
    """The leads list as `view` arranges it."""
    return ListArgs.from_view(view).url()


def views_for(workspace_id: str) -> list[SavedView]:
    """The signed-in user's saved views and those shared with the workspace, by name."""
    return list(
        db.session.scalars(
            db.select(SavedView)
            .where(
                SavedView.workspace_id == workspace_id,
                or_(SavedView.user_id == current_user.id, SavedView.shared.is_(True)),
            )
            .order_by(SavedView.name, SavedView.id)
        )
    )


def _views_block(status: int = 200, **context: Any) -> Response:
    return render_page_or_block(
        "backoffice/leads/index.html",
        "saved_views",
        status=status,
        views=views_for(g.workspace.id),
        **context,
    )


@bp.post("/leads/views")
def lead_view_save() -> Response:
    """Save the list as it is shown (filters, sort, columns) under a name; `shared` shows it
    to the whole workspace. htmx swaps the list of views; else back to the saved view."""
    arranged = ListArgs.from_args(request.form)
    name, error = "", None
    try:
        name = values.text(request.form.get("name"), MAX_VIEW_NAME) or ""
    except values.Invalid as invalid:
        error = f"Name {invalid}."
    if not name and error is None:
        error = "Give the view a name."
    if error is not None:
        if not is_htmx():
            flash(error, "error")
            return redirect(arranged.url(), code=303)
        return _views_block(422, name_error=error, name=request.form.get("name", ""))
    view = SavedView(
        workspace_id=g.workspace.id,
        user_id=current_user.id,
        name=name,
        filters=arranged.filters.as_args(),
        columns=list(arranged.columns),
        sort=arranged.sort.key,
        shared=request.form.get("shared") == "1",
    )
    db.session.add(view)
    db.session.commit()
    flash(f"View “{name}” saved.", "success")
    if not is_htmx():
        return redirect(arranged.url(), code=303)
    return _views_block(saved_id=view.id)


@bp.post("/leads/views/<view_id>/delete")
def lead_view_delete(view_id: str) -> Response:
    """Delete one of your saved views (a shared view is its author's to delete)."""
    view = db.session.scalar(
        db.select(SavedView).filter_by(
            id=view_id, workspace_id=g.workspace.id, user_id=current_user.id
        )
    )
    if view is None:
        abort(404)
    db.session.delete(view)
    db.session.commit()
    flash(f"View “{view.name}” deleted.", "success")
    if not is_htmx():
        return redirect(url_for("backoffice.leads_index"), code=303)
    return _views_block()
