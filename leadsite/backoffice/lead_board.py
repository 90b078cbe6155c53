"""The leads board: a column per status (open ones first, closed last), the newest leads of
each as cards, moved by drag-and-drop or by each card's status select (which needs no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy import ColumnElement, and_, func, select
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.leads import lead_status
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.leads import statuses as lead_statuses
from leadsite.leads.changes import LeadErased, update_lead
from leadsite.models import Lead, LeadStatus, Origin, utcnow
from leadsite.registration import ValidationFailed

# Cards per column: a workspace may have a million leads; each column shows its newest and
# says how many it has, with a link to the list of them all.
BOARD_LIMIT = 25
COUNT_CAP = 10_000  # more show as "10,000+"


@dataclass
class Column:
    status: LeadStatus
    count: int
    cards: list[tuple[Lead, str | None]]


def _listed(workspace_id: str) -> list[ColumnElement[bool]]:
    """The leads a board shows: not erased, not held (held ones wait on the list)."""
    return [Lead.workspace_id == workspace_id, Lead.erased_at.is_(None), Lead.held.is_(False)]


def board_columns(workspace_id: str, limit: int = BOARD_LIMIT) -> list[Column]:
    """Each status's newest `limit` leads and its count up to COUNT_CAP, each read through
    ix_leads_workspace_status_created (an exact count of a million leads reads them all)."""
    statuses = sorted(lead_statuses.statuses(workspace_id), key=lambda s: s.closed)  # stable
    origin = and_(Origin.id == Lead.origin_id, Origin.workspace_id == workspace_id)
    columns = []
    for status in statuses:
        listed = select(Lead.id).where(*_listed(workspace_id), Lead.status == status.key)
        count = db.session.scalar(
            select(func.count()).select_from(listed.limit(COUNT_CAP + 1).subquery())
        )
        cards = db.session.execute(
            select(Lead, Origin.name)
            .outerjoin(Origin, origin)
            .where(*_listed(workspace_id), Lead.status == status.key)
            .order_by(Lead.created_at.desc(), Lead.id.desc())
            .limit(limit)
        ).all()
        columns.append(Column(status, count or 0, [tuple(card) for card in cards]))
    return columns


@bp.app_template_filter()
def age(created_at: datetime) -> str:
    """How long ago, in the largest whole unit: "5 minutes", "3 hours", "12 days"."""
    seconds = max(int((utcnow() - created_at).total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'' if n == 1 else 's'}"
    return "just now"


def _board(status: int = 200, **context: object) -> Response:
    return render_page_or_block(
        "backoffice/leads/board.html",
        "lead_board",
        status=status,
        columns=board_columns(g.workspace.id, BOARD_LIMIT),
        limit=BOARD_LIMIT,
        count_cap=COUNT_CAP,  # read at each call: tests lower it
        **context,
    )


@bp.get("/leads/board")
def leads_board() -> Response:
    """The board of leads by status."""
    return _board()


@bp.post("/leads/<lead_id>/status")
def lead_status_move(lead_id: str) -> Response:
    """Move a lead to another status (a card dropped on a column, or its select); answers the
    board again, focus on the moved card, or goes back to it without JavaScript."""
    lead = db.session.scalar(
        db.select(Lead).filter_by(id=lead_id, workspace_id=g.workspace.id, erased_at=None)
    )
    if lead is None:
        abort(404)
    try:
        update_lead(lead, {"status": request.form.get("status")}, g.workspace.default_country)
    except LeadErased:  # erased while this waited for the lead: as if erased before
        db.session.rollback()
        abort(404)
    except ValidationFailed as failed:
        db.session.rollback()
        problem = failed.errors[0].message if failed.errors else "Choose a status."
        if not is_htmx():
            flash(problem, "error")
            return redirect(url_for("backoffice.leads_board"), code=303)
        return _board(422, problem=problem, moved=lead_id)
    db.session.commit()
    moved_to = lead_status(lead.status)
    flash(
        f"{lead.display_name} moved to “{moved_to.name if moved_to else lead.status}”.", "success"
    )
    if not is_htmx():
        return redirect(url_for("backoffice.leads_board") + f"#card-{lead.id}", code=303)
    return _board(moved=lead.id)
