"""The back-office leads list: live search, filters, sorting, columns and "Load more"."""

from __future__ import annotations

from itertools import groupby

import phonenumbers
from flask import abort, g, request, url_for
from sqlalchemy import func
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.lead_views import COLUMNS, ListArgs, views_for
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.journeys.confirmation import awaiting_lead_ids
from leadsite.leads import statuses as lead_statuses
from leadsite.leads.search import PAGE_SIZE, InvalidCursor
from leadsite.leads.sort import SORTABLE_COLUMNS, SORTS, sorted_leads
from leadsite.models import Funnel, Lead, LeadStatus, Origin


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
        "statuses": lead_statuses.statuses(workspace_id),
        "sorts": SORTS.values(),
        "views": views_for(workspace_id),
    }


@bp.app_template_global()
def lead_status(key: str) -> LeadStatus | None:
    """The workspace's status with this key (read once per request), None for an unknown key."""
    if "lead_statuses" not in g:
        g.lead_statuses = {s.key: s for s in lead_statuses.statuses(g.workspace.id)}
    return g.lead_statuses.get(key)


@bp.app_template_filter()
def phone_display(e164: str | None) -> str:
    """A stored E.164 number as staff read it: national format for the workspace's country,
    international for others."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    same_country = phonenumbers.region_code_for_number(number) == g.workspace.default_country
    formats = phonenumbers.PhoneNumberFormat
    style = formats.NATIONAL if same_country else formats.INTERNATIONAL
    return phonenumbers.format_number(number, style)


@bp.get("/leads")
def leads_index() -> Response:
    """The workspace's leads, newest first (or as `sort` says), 50 at a time, with the
    columns `col` names.

    htmx asks for the table alone (search, filters, sorting) or, with `after`, for the next rows
    only ("Load more"); without JavaScript the same URL renders the whole page.
    """
    view = ListArgs.from_args(request.args)
    after = request.args.get("after") or None
    try:
        page = sorted_leads(
            g.workspace.id,
            view.filters,
            view.sort,
            after=after,
            limit=PAGE_SIZE,
            country=g.workspace.default_country,
        )
    except InvalidCursor:
        abort(400, "That “Load more” link is not valid. Start again from the first page.")
    next_url = (
        url_for("backoffice.leads_index", **view.as_args(), after=page.next_cursor)
        if page.next_cursor
        else None
    )
    options = {} if is_htmx() else _filter_options(g.workspace.id)
    response = render_page_or_block(
        "backoffice/leads/index.html",
        "lead_rows" if after else "lead_table",
        view=view,
        filters=view.filters,
        page=page,
        after=after,
        next_url=next_url,
        page_size=PAGE_SIZE,
        sortable=SORTABLE_COLUMNS,
        columns=COLUMNS,
        awaiting=awaiting_lead_ids([lead.id for lead, _ in page.rows]),
        **options,
    )
    if request.headers.get("HX-Source") == "form#lead-search":
        # The address bar shows the filters that are set, not every empty field of the form.
        response.headers["HX-Push-Url"] = url_for("backoffice.leads_index", **view.as_args())
    return response
