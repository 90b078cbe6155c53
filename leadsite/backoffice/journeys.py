"""`/p/journeys/<journey id>`: the back-office address of a journey (Kohomai's), which opens the
lead's page at that journey."""

from __future__ import annotations

from flask import abort, g, redirect, url_for
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.models import Journey


@bp.get("/journeys/<journey_id>")
def journey_detail(journey_id: str) -> Response:
    """Open the lead's page at this journey; another workspace's journey is a 404."""
    journey = db.session.scalar(
        db.select(Journey).filter_by(id=journey_id, workspace_id=g.workspace.id)
    )
    if journey is None:
        abort(404)
    return redirect(f"{url_for('backoffice.lead_detail', lead_id=journey.lead_id)}#{journey.id}")
