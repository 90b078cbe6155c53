"""The back-office leads list: live search, filters and "Load more", newest first."""

from __future__ import annotations

from itertools import groupby

from flask import abort, g, request, url_for
from sqlalchemy import func
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.journeys.confirmation import awaiting_lead_ids
from leadsite.lead_search import PAGE_SIZE, InvalidCursor, LeadFilters, search_leads
from leadsite.models import Funnel, Lead, Origin

# Statuses offered as suggestions in the filter; a workspace may use others.
COMMON_STATUSES = ["new", "contacted", "qualified", "customer", "lost"]


def _filter_options(workspace_id: str) -> dict[str, object]:
    """The funnels and their origins for the filter selects (a workspace has few of each)."""
    funnels = list(
        db.session.scalars(
            db.select(Funnel).filter_by(workspace_id=workspace_id).order_by(Funnel.name)
        )
    )
    origins = db.session.execute(
        db.select(Origin.funnel_id, Origin.id, Origin.name)
        .filter_by(workspace_id=workspace_id)
        .order_by(Origin.funnel_id, Origin.name)
    )
    by_funnel = {
        key: [(o.id, o.name) for o in group]
        for key, group in groupby(origins, lambda o: o.funnel_id)
    }
    held_count = db.session.scalar(
        db.select(func.count())
        .select_from(Lead)
        .where(Lead.workspace_id == workspace_id, Lead.held.is_(True), Lead.erased_at.is_(None))
    )
    return {
        "held_count": held_count or 0,
        "funnels": funnels,
        "origin_groups": [(f.name, by_funnel[f.id]) for f in funnels if f.id in by_funnel],
        "statuses": COMMON_STATUSES,
    }


@bp.get("/leads")
def leads_index() -> Response:
    """The workspace's leads, newest first, 50 at a time.

    htmx asks for the table alone (search and filters) or, with `after`, for the next rows only
    ("Load more"); without JavaScript the same URL renders the whole page.
    """
    filters = LeadFilters.from_args(request.args)
    after = request.args.get("after") or None
    try:
        page = search_leads(
            g.workspace.id,
            filters,
            after=after,
            limit=PAGE_SIZE,
            country=g.workspace.default_country,
        )
    except InvalidCursor:
        abort(400, "That “Load more” link is not valid. Start again from the first page.")
    next_url = (
        url_for("backoffice.leads_index", **filters.as_args(), after=page.next_cursor)
        if page.next_cursor
        else None
    )
    options = {} if is_htmx() else _filter_options(g.workspace.id)
    response = render_page_or_block(
        "backoffice/leads/index.html",
        "lead_rows" if after else "lead_table",
        filters=filters,
        page=page,
        after=after,
        next_url=next_url,
        page_size=PAGE_SIZE,
        awaiting=awaiting_lead_ids([lead.id for lead, _ in page.rows]),
        **options,
    )
    if request.headers.get("HX-Source") == "form#lead-search":
        # The address bar shows the filters that are set, not every empty field of the form.
        response.headers["HX-Push-Url"] = url_for("backoffice.leads_index", **filters.as_args())
    return response
