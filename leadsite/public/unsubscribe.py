"""Opt-out: `/unsubscribe/<token>`, one button on a page, or one POST from a mail client."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from leadsite import i18n
from leadsite.extensions import db
from leadsite.journeys.emails import lead_id_from_unsubscribe_token
from leadsite.leads.changes import lock_leads
from leadsite.models import Lead, utcnow
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.public import bp
from leadsite.public.emails import masked
from leadsite.public.pages import message_page
from leadsite.representations import lead_dict


def opt_out(lead: Lead) -> bool:
    """Opt the lead out and write `lead.opted_out`; False when they were out already.
    The caller commits. The lead is locked and read afresh first: clicks of the same link at
    once (a mail client's one-click POST and the page's button) each wrote the event."""
    lock_leads([lead])
    if lead.opted_out_at is not None:
        return False
    lead.opted_out_at = utcnow()
    EventWriter(lead.workspace_id, lead.id).emit(event_types.LEAD_OPTED_OUT, lead_dict(lead))
    return True


def _lead(token: str) -> Lead | None:
    lead_id = lead_id_from_unsubscribe_token(token)
    lead = db.session.get(Lead, lead_id) if lead_id else None
    if lead is None or lead.erased_at is not None:
        return None
    i18n.speak(i18n.lead_language(lead))
    return lead


def _invalid() -> Response:
    return message_page(
        404,
        _("This link does not work"),
        [_("It may be mistyped or incomplete. Open it again from one of our emails.")],
    )


def _unsubscribed() -> Response:
    return message_page(
        200,
        _("You are unsubscribed"),
        [_("You will not receive any more emails from us. Thank you for letting us know.")],
    )


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> Response:
    """A page with one button: a GET changes nothing (mail scanners follow links)."""
    lead = _lead(token)
    if lead is None:
        return _invalid()
    if lead.opted_out_at is not None:
        return _unsubscribed()
    return message_page(
        200,
        _("Unsubscribe from our emails?"),
        [
            _("We will stop emailing %(email)s.", email=masked(lead.email))
            if lead.email
            else _("We will stop emailing you.")
        ],
        action=request.path,
        action_label=_("Unsubscribe"),
    )


@bp.post("/unsubscribe/<token>")
def unsubscribe_confirmed(token: str) -> Response:
    """Opt the lead out: the page's button, or a mail client's RFC 8058 one-click POST
    (`List-Unsubscribe=One-Click`); the signed token is the proof, no other field is needed."""
    lead = _lead(token)
    if lead is None:
        return _invalid()
    opt_out(lead)
    db.session.commit()
    return _unsubscribed()
