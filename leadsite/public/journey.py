"""The lead's own journey page `/j/<token>`: progress, stages, tasks to do, and a fresh link
when expired (a lead signed in to the front-office opens their journeys whatever the age of the
link)."""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from leadsite import i18n
from leadsite.extensions import db, limiter
from leadsite.journeys.engine import StepNotOpen
from leadsite.journeys.generate import new_access_token
from leadsite.models import ActivityKind, Funnel, Journey, Lead, utcnow
from leadsite.public import bp
from leadsite.public.emails import masked, queue_journey_link
from leadsite.public.framing import allow_form_action
from leadsite.public.journey_done import after_lead_step, lead_record
from leadsite.public.journey_state import (
    complete_task,
    journey_view,
    redirect_target,
    task_points,
)
from leadsite.public.lead_session import signed_in_as
from leadsite.public.pages import message_page
from leadsite.public.step_panels import allow_videos, step_panels
from leadsite.public.tokens import journey_action_token, journey_action_token_valid

RENEW_RATE_LIMIT = "5 per hour"
STALE = lazy_gettext(
    "This page was open for a long time. Everything you typed is still here: send it again."
)
NOT_NOW = lazy_gettext("That task cannot be done now.")


def _find(token: str) -> Journey | None:
    journey = db.session.scalar(db.select(Journey).filter_by(access_token=token))
    if journey is None:
        return None
    lead = db.session.get(Lead, journey.lead_id)
    if lead is None or lead.erased_at is not None:
        return None
    i18n.speak(i18n.lead_language(lead))
    return journey


def _open(journey: Journey) -> bool:
    """The link still works, or the lead it belongs to is signed in on this browser."""
    return journey.valid_until > utcnow() or signed_in_as(journey.lead_id)


def _not_found() -> Response:
    return message_page(
        404,
        _("This link does not work"),
        [_("It may be mistyped or replaced by a newer one. Open the latest email we sent you.")],
        link=url_for("public.lead_login"),
        link_label=_("Sign in to see your journeys"),
    )


def _expired(journey: Journey) -> Response:
    if not journey.lead.email:
        return message_page(
            410,
            _("This link has expired"),
            [_("Ask the people who sent it to you for a new one.")],
        )
    return message_page(
        410,
        _("This link has expired"),
        [_("Links to your page work for 7 days. We can email you a new one.")],
        action=url_for("public.journey_link_renew", token=journey.access_token),
        action_label=_("Email me a new link"),
        link=url_for("public.lead_login"),
        link_label=_("Sign in to see all your journeys"),
    )


def _render(journey: Journey, status: int = 200, **context: Any) -> Response:
    view = journey_view(journey)
    panels = step_panels(journey)
    funnel = db.session.get(Funnel, journey.funnel_id)
    redirect_url = redirect_target(journey)
    body = render_template(
        "public/journey.html",
        view=view,
        journey=journey,
        lead=journey.lead,
        funnel_name=funnel.name if funnel else "",
        token=journey_action_token(journey.id),
        redirect_url=redirect_url,
        signed_in=signed_in_as(journey.lead_id),
        panels=panels,
        **{"errors": {}, "values": {}, "error_step": None, "notice": None, **context},
    )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL is the lead's key
    return allow_videos(allow_form_action(response, redirect_url), panels)


@bp.get("/j/<not(login, logout):token>")
def journey_page(token: str) -> Response:
    """The lead's stages and tasks; an expired link offers to email a fresh one."""
    journey = _find(token)
    if journey is None:
        return _not_found()
    if not _open(journey):
        return _expired(journey)
    notice = _("Thank you: that is done.") if request.args.get("saved") == "1" else None
    return _render(journey, notice=notice)


@bp.post("/j/<token>/steps/<step_id>")
def journey_task_done(token: str, step_id: str) -> Response:
    """Mark one of the lead's due tasks done, storing the data points it asks for first; when
    nothing is left for the lead, go on to the journey's redirect URL."""
    journey = _find(token)
    if journey is None:
        return _not_found()
    if not _open(journey):
        return _expired(journey)
    typed = {key: value for key, value in request.form.items() if not key.startswith("_")}
    if not journey_action_token_valid(request.form.get("_token", ""), journey.id):
        return _render(journey, 400, notice=STALE, values=typed, error_step=step_id)
    task = next((t for t in journey_view(journey).tasks if t.step.id == step_id), None)
    # Other kinds of lead step complete through routes of their own, with what they ask for.
    if task is None or task.state != "todo" or task.step.kind != ActivityKind.LEAD_TASK:
        return _render(journey, 409, notice=NOT_NOW)
    done = "filled in " + ", ".join(f.label for f in task.fields) if task.fields else "marked done"
    try:
        errors = complete_task(
            journey, task, typed, task_points(journey, task.step), lead_record(done)
        )
    except StepNotOpen:
        db.session.rollback()
        return _render(journey, 409, notice=NOT_NOW)
    if errors:
        return _render(journey, 422, errors=errors, values=typed, error_step=step_id)
    db.session.commit()
    return after_lead_step(journey)


@bp.post("/j/<token>/renew")
@limiter.limit(RENEW_RATE_LIMIT, methods=["POST"])
def journey_link_renew(token: str) -> Response:
    """Email the lead a fresh link to their page in place of an expired one."""
    journey = _find(token)
    if journey is None:
        return _not_found()
    if journey.valid_until > utcnow():
        return redirect(url_for("public.journey_page", token=token), 303)
    lead = journey.lead
    if not lead.email:
        return _expired(journey)
    journey.access_token, journey.valid_until = new_access_token()
    queue_journey_link(journey, lazy_gettext("Your new link"))
    db.session.commit()
    return message_page(
        200,
        _("Check your inbox"),
        [_("We have sent a new link to your page to %(email)s.", email=masked(lead.email))],
    )
