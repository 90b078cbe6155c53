"""After the lead does one of their steps: the record kept of it, and where they go next.

Every kind of lead step (`journey_state.LEAD_PAGE_KINDS`) completes through these two, whichever
route took the submit, so each records the same evidence and the redirect happens once.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from leadsite.models import Journey, utcnow
from leadsite.public.journey_state import journey_view, redirect_target
from leadsite.representations import iso

USER_AGENT_LENGTH = 300


def lead_record(done: str, **details: Any) -> dict[str, Any]:
    """The start of a lead step's `result`: what was done, by the lead, when, from which IP
    (the client's, behind `TRUSTED_PROXIES`) and browser."""
    return {
        "by": "lead",
        "done": done,
        "at": iso(utcnow()),
        "ip": request.remote_addr,
        "user_agent": request.user_agent.string[:USER_AGENT_LENGTH] or None,
        **details,
    }


def after_lead_step(journey: Journey) -> Response:
    """The answer to the submit that completed a lead step (after the commit): the journey's
    redirect URL when nothing is left for the lead, else their page again, saying it is done."""
    target = redirect_target(journey)
    if target and journey_view(journey).all_done:
        return redirect(target, 303)
    return redirect(url_for("public.journey_page", token=journey.access_token, saved=1), 303)
