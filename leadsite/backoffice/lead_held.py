"""Held leads on the lead page: accept one (it registers now) or delete it."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.forms import EmptyForm
from leadsite.backoffice.lead_page import lead_or_404
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.models import Lead
from leadsite.registration import FunnelClosed, NotFound, RegistrationError, ValidationFailed
from leadsite.registration.held import NoLongerHeld, accept_held, delete_held


def _held_or_404(lead_id: str) -> Lead:
    lead = lead_or_404(lead_id)
    if not lead.held:
        abort(404)
    return lead


def _refused(error: RegistrationError) -> str:
    if isinstance(error, NoLongerHeld):
        return "Someone accepted or deleted it meanwhile: it is no longer held."
    if isinstance(error, FunnelClosed):
        return "Its funnel is closed to registrations now: open it again, then accept."
    if isinstance(error, NotFound):
        return "The form it was sent through is gone or inactive: it cannot register now."
    if isinstance(error, ValidationFailed):
        problems = "; ".join(item.message for item in error.errors)
        return f"What it sent is not valid any more: {problems}."
    return f"It cannot register: {error.message}."


@bp.post("/leads/<lead_id>/accept")
def held_lead_accept(lead_id: str) -> Response:
    """Register a held lead now: its journey starts, its emails and webhooks go out."""
    lead = _held_or_404(lead_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        registration = accept_held(lead)
    except RegistrationError as error:
        db.session.rollback()
        return error_page(409, _refused(error), title="Not accepted")
    flash("Accepted: the lead is registered and its journey has started.", "success")
    return redirect(url_for("backoffice.lead_detail", lead_id=registration.lead.id))


@bp.post("/leads/<lead_id>/delete")
def held_lead_delete(lead_id: str) -> Response:
    """Delete a held lead and all it sent; registered leads are erased, never deleted."""
    lead = _held_or_404(lead_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    delete_held(lead.id)
    db.session.commit()
    flash("Held submission deleted.", "success")
    return redirect(url_for("backoffice.leads_index", held="true"))
