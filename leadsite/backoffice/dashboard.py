"""The back-office home page."""

from __future__ import annotations

from flask import g

from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.models import Funnel, Lead


@bp.get("/")
def dashboard() -> object:
    """Totals for the current workspace."""
    workspace_id = g.workspace.id
    totals = {
        "leads": db.session.scalar(
            db.select(db.func.count()).select_from(Lead).filter_by(workspace_id=workspace_id)
        ),
        "funnels": db.session.scalar(
            db.select(db.func.count()).select_from(Funnel).filter_by(workspace_id=workspace_id)
        ),
    }
    return render_page_or_block("backoffice/dashboard.html", "content", totals=totals)
