"""CSV export of the leads list, with the list's filters, streamed as it is written."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, g, request, stream_with_context
from flask_login import current_user

from leadsite.access.members import a_member_now
from leadsite.backoffice import bp
from leadsite.leads import export as lead_export
from leadsite.leads.search import LeadFilters
from leadsite.models import utcnow


def while_a_member(chunks: Iterator[str]) -> Iterator[str]:
    """A download's chunks while the signed-in member keeps their access: checked again before
    each chunk after the first (64 KB or more of rows), as a deactivation stops everything else
    they do at once. A download under way when it lands ends there, with a last line saying
    so, rather than sending the rest of the workspace's leads to someone who lost access."""
    user_id, workspace_id = current_user.id, g.workspace.id
    quoted = g.workspace.name.replace('"', '""')  # inside the CSV cell's quotes
    for number, chunk in enumerate(chunks):
        if number and not a_member_now(user_id, workspace_id):
            yield f'"The export stopped here: you no longer have access to {quoted}."\r\n'
            return
        yield chunk


def csv_download(chunks: Iterator[str], name: str = "leads") -> Response:
    """A streamed CSV attachment: the first bytes leave before the last row is read, and no
    more once the member lost their access (`while_a_member`)."""
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    response = Response(
        stream_with_context(chunk.encode() for chunk in while_a_member(chunks)),
        mimetype="text/csv",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"  # personal data: keep it out of caches
    response.headers["X-Accel-Buffering"] = "no"  # nginx passes it on as it comes
    return response


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
