"""`/j/session/<token>`: a one-time link (the ConnectionURL of `POST /api/v1/sessions`) that
signs a lead in to the front-office and opens their journey page; used again, it offers a fresh
link by email instead."""

from __future__ import annotations

from flask import redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from leadsite import i18n
from leadsite.extensions import db, limiter
from leadsite.journeys.sessions import find_session, fresh_page_link, use_session
from leadsite.models import Journey, Lead
from leadsite.public import bp
from leadsite.public.emails import masked, queue_journey_link
from leadsite.public.lead_session import sign_in_lead
from leadsite.public.pages import message_page

EMAIL_RATE_LIMIT = "5 per hour"


def _journey(token: str) -> Journey | None:
    session = find_session(token)
    if session is None:
        return None
    journey = db.session.get(Journey, session.journey_id)
    lead = db.session.get(Lead, journey.lead_id) if journey else None
    if lead is None or lead.erased_at is not None:
        return None
    i18n.speak(i18n.lead_language(lead))
    return journey


def _not_found() -> Response:
    return message_page(
        404,
        _("This link does not work"),
        [_("It may be mistyped. Ask for a new one where you got it.")],
    )


@bp.get("/j/session/<token>")
def journey_session_open(token: str) -> Response:
    """Sign in once: the lead is signed in to the front-office (their journeys one click away)
    and goes on to this journey's page. A used or expired link offers an email."""
    session = find_session(token)
    journey = _journey(token)
    if session is None or journey is None:
        return _not_found()
    if use_session(session):
        db.session.commit()
        sign_in_lead(journey.lead)
        return redirect(url_for("public.journey_page", token=journey.access_token), 303)
    db.session.rollback()
    response = message_page(
        410,
        _("This sign-in link has already been used"),
        [_("Sign-in links work once, for a few minutes.")]
        + ([_("We can email you a link to your page.")] if journey.lead.email else []),
        action=url_for("public.journey_session_email", token=token) if journey.lead.email else None,
        action_label=_("Email me a new link"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/j/session/<token>/email")
@limiter.limit(EMAIL_RATE_LIMIT, methods=["POST"])
def journey_session_email(token: str) -> Response:
    """Email the lead a link to their journey page, in place of a spent sign-in link."""
    journey = _journey(token)
    if journey is None:
        return _not_found()
    lead = journey.lead
    if not lead.email:
        return _not_found()
    fresh_page_link(journey)
    queue_journey_link(journey, lazy_gettext("Your link"))
    db.session.commit()
    return message_page(
        200,
        _("Check your inbox"),
        [_("We have sent a link to your page to %(email)s.", email=masked(lead.email))],
    )
