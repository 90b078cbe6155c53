"""CSV export of the leads list, with the list's filters, streamed as it is written."""

from __future__ import annotations

from flask import Response, g, request

from leadsite.backoffice import bp
from leadsite.backoffice.downloads import csv_download
from leadsite.leads import export as lead_export
from leadsite.leads.search import LeadFilters


@bp.get("/leads/export")
def leads_export() -> Response:
    """Every lead the list shows with these filters (`q`, `status`, `origin`, `funnel`, `tag`),
    as CSV (UTF-8 with a BOM, so that Excel reads accents right; `bom=0` leaves it out)."""
    filters = LeadFilters.from_args(request.args)
    chunks = lead_export.export_filtered(
        g.workspace.id,
        filters,
        g.workspace.default_country,
        bom=request.args.get("bom") != "0",
    )
    return csv_download(chunks)
