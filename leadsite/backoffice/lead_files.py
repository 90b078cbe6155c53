"""Downloading the files a lead uploaded on its journeys (the lead page lists them, with its
signatures: `journeys.evidence`)."""

from __future__ import annotations

from flask import abort, g, make_response
from sqlalchemy.orm import undefer
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.lead_page import lead_or_404
from leadsite.extensions import db
from leadsite.models import JourneyFile


@bp.get("/leads/<lead_id>/files/<file_id>")
def lead_file_download(lead_id: str, file_id: str) -> Response:
    """A file the lead uploaded, as a download: never shown inline, whatever its type."""
    lead = lead_or_404(lead_id)
    item = db.session.scalar(
        db.select(JourneyFile)
        .filter_by(id=file_id, lead_id=lead.id, workspace_id=g.workspace.id)
        .options(undefer(JourneyFile.content))
    )
    if item is None:
        abort(404)
    response = make_response(item.content)
    response.headers["Content-Type"] = item.content_type or "application/octet-stream"
    response.headers["Content-Disposition"] = f'attachment; filename="{item.filename}"'
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response
