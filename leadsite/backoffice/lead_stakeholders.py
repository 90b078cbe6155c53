"""The lead page's "Send a new link" for a stakeholder step (also how a failed one is retried)."""

from __future__ import annotations

from flask import flash
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.lead_actions import NOT_OPEN, _back_to, _step_or_404
from leadsite.backoffice.lead_detail import respond
from leadsite.backoffice.lead_page import lead_or_404
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import is_htmx
from leadsite.journeys.engine import StepNotOpen
from leadsite.journeys.stakeholder_answers import resend


@bp.post("/leads/<lead_id>/steps/<step_id>/stakeholder-link")
def lead_stakeholder_resend(lead_id: str, step_id: str) -> Response:
    """Email the stakeholder a new link (earlier ones stop working); a failed step is retried
    and fails again, saying why, when there is still no address."""
    lead = lead_or_404(lead_id)
    step = _step_or_404(lead.id, step_id)
    if lead.erased_at is not None:
        return error_page(409, "This lead's personal data was erased.", title="Not sent")
    try:
        link = resend(step)
    except StepNotOpen:
        db.session.rollback()
        return error_page(409, NOT_OPEN, title="Not sent")
    db.session.commit()
    if link is None:
        flash(f"“{step.title}” failed again: {(step.result or {}).get('error')}.", "error")
    else:
        flash(f"A new link to “{step.title}” was emailed to {link.email}.", "success")
    if not is_htmx():
        return _back_to(lead.id, "journeys")
    return respond(lead, "lead_journeys", oob=("lead_timeline",))
