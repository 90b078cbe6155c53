"""The back-office funnels list (read-only for now): status, leads and origins of each."""

from __future__ import annotations

from flask import g
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.models import Funnel, Journey, Origin


def funnels_with_counts(workspace_id: str) -> list[tuple[Funnel, int, int]]:
    """Each funnel of the workspace with its number of leads (journeys) and origins, newest first.

    One query: the counts are grouped subqueries joined to the funnels, not a query per row.
    """
    funnel_ids = select(Funnel.id).where(Funnel.workspace_id == workspace_id)
    journeys = (
        select(Journey.funnel_id, func.count().label("n"))
        .where(Journey.funnel_id.in_(funnel_ids))
        .group_by(Journey.funnel_id)
        .subquery()
    )
    origins = (
        select(Origin.funnel_id, func.count().label("n"))
        .where(Origin.workspace_id == workspace_id)
        .group_by(Origin.funnel_id)
        .subquery()
    )
    statement = (
        select(Funnel, func.coalesce(journeys.c.n, 0), func.coalesce(origins.c.n, 0))
        .outerjoin(journeys, journeys.c.funnel_id == Funnel.id)
        .outerjoin(origins, origins.c.funnel_id == Funnel.id)
        .where(Funnel.workspace_id == workspace_id)
        .order_by(Funnel.created_at.desc(), Funnel.id.desc())
    )
    return [
        (funnel, leads, origin_count)
        for funnel, leads, origin_count in db.session.execute(statement)
    ]


@bp.get("/funnels")
def funnels_index() -> Response:
    """The workspace's funnels with their status, lead and origin counts, and public id."""
    return render_page_or_block(
        "backoffice/funnels/index.html", "funnel_table", funnels=funnels_with_counts(g.workspace.id)
    )
