"""Who is signed in to the front-office: one lead, kept in the Flask session under a key of its
own, apart from staff's Flask-Login session (signing one out leaves the other alone).

The session cookie is HttpOnly and SameSite=Lax (config), ends with the browser, and the
front-office sign-in inside it lasts `SIGNED_IN_FOR` at most.
"""

from __future__ import annotations

import time
from datetime import timedelta

from flask import session

from leadsite.extensions import db
from leadsite.models import Lead

SESSION_KEY = "front_office"
SIGNED_IN_FOR = timedelta(hours=12)


def sign_in_lead(lead: Lead) -> None:
    """Sign this lead in, in place of any other lead signed in on this browser."""
    session[SESSION_KEY] = {"lead": lead.id, "at": int(time.time())}


def sign_out_lead() -> None:
    session.pop(SESSION_KEY, None)


def signed_in_lead() -> Lead | None:
    """The lead signed in on this browser, while the sign-in is fresh and the lead not erased."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, dict):
        return None
    at = value.get("at")
    if not isinstance(at, int) or time.time() - at > SIGNED_IN_FOR.total_seconds():
        sign_out_lead()
        return None
    lead = db.session.get(Lead, str(value.get("lead", "")))
    if lead is None or lead.erased_at is not None:
        sign_out_lead()
        return None
    return lead


def signed_in_as(lead_id: str) -> bool:
    """Whether the lead signed in on this browser is this one (without loading it)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, dict) or value.get("lead") != lead_id:
        return False
    return signed_in_lead() is not None
