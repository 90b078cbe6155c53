"""The front-office door for leads: `/j/login` (a one-time link by email), the link itself,
the list of their journeys at `/j/`, and sign-out.

An emailed link opens a page with one button that spends it: mail scanners fetch the links in
an email before the person does, and a GET that signed in would spend the link for them.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, ngettext
from flask_limiter import RequestLimit
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.wrappers import Response
from wtforms import ValidationError

from leadsite import values
from leadsite.extensions import db, limiter
from leadsite.journeys.sign_ins import (
    email_sign_in_link,
    find_sign_in,
    request_sign_in,
    usable,
    use_sign_in,
)
from leadsite.models import Funnel, Journey, LeadSignIn, Workspace
from leadsite.public import bp
from leadsite.public.emails import masked
from leadsite.public.fields import FormField
from leadsite.public.journey_state import journey_view
from leadsite.public.lead_session import sign_in_lead, sign_out_lead, signed_in_lead
from leadsite.public.pages import message_page

STALE = lazy_gettext("This page was open for a long time. Send it again.")
RENEW_RATE_LIMIT = "5 per hour"


def _limit() -> str:
    return current_app.config["LEAD_LOGIN_RATE_LIMIT"]


def _asked_email() -> str:
    return "lead-login-email:" + request.form.get("email", "").strip().lower()


def _too_many(limit: RequestLimit) -> Response:
    """Asked too often (from this address or for this email): the form again, saying when."""
    seconds = limit.limit.get_expiry()
    minutes = max(1, seconds // 60)
    if seconds >= 3600:
        error = _(
            "You have asked for several links in a short time. Use the last one we sent, "
            "or try again in an hour."
        )
    else:
        error = ngettext(
            "You have asked for several links in a short time. Use the last one we sent, "
            "or try again in %(num)d minute.",
            "You have asked for several links in a short time. Use the last one we sent, "
            "or try again in %(num)d minutes.",
            minutes,
        )
    response = _login_page(429, value=request.form.get("email", ""), error=error)
    response.headers["Retry-After"] = str(seconds)
    return response


def _csrf_valid() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (ValidationError, CSRFError):
        return False
    return True


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = current_app.make_response((render_template(template, **context), status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # links here carry tokens
    return response


def _login_page(status: int = 200, **context: object) -> Response:
    field = FormField(
        "email", "email", "lead", _("Email"), "email", required=True, autocomplete="email"
    )
    context = {"field": field, "value": "", "error": None, "sent_to": None, **context}
    return _page("public/login.html", status, lead=signed_in_lead(), **context)


@bp.get("/j/login")
def lead_login() -> Response:
    """Ask for a sign-in link by email."""
    return _login_page(signed_out=request.args.get("signed_out") == "1")


@bp.post("/j/login")
@limiter.limit(_limit, methods=["POST"], on_breach=_too_many)  # per IP
@limiter.limit(_limit, methods=["POST"], key_func=_asked_email, on_breach=_too_many)
def lead_login_send() -> Response:
    """Email a one-time link to every lead with this address; the answer is the same whether
    or not there is one, so the page tells nobody which addresses are known."""
    raw = request.form.get("email", "")
    if not _csrf_valid():
        return _login_page(400, value=raw, error=str(STALE))
    if not raw.strip():
        return _login_page(422, value=raw, error=_("Enter your email address"))
    try:
        email = values.email(raw)
    except values.Invalid as error:
        return _login_page(422, value=raw, error=_("Email %(problem)s", problem=str(error)))
    request_sign_in(email)
    db.session.commit()
    return _login_page(sent_to=email)


def _link_not_found() -> Response:
    return message_page(
        404,
        _("This link does not work"),
        [_("It may be mistyped. Ask for a new one.")],
        link=url_for("public.lead_login"),
        link_label=_("Ask for a sign-in link"),
    )


def _link_spent(sign_in: LeadSignIn, token: str) -> Response:
    used = sign_in.used_at is not None
    return message_page(
        410,
        _("This sign-in link has already been used")
        if used
        else _("This sign-in link has expired"),
        [_("Sign-in links work once, for 15 minutes. We can email you a new one.")],
        action=url_for("public.lead_login_renew", token=token),
        action_label=_("Email me a new link"),
    )


@bp.get("/j/login/<token>")
def lead_login_link(token: str) -> Response:
    """The emailed link: a button that signs in (see the module's docstring), or, used or
    expired, an offer of a new one."""
    sign_in = find_sign_in(token)
    if sign_in is None:
        return _link_not_found()
    if not usable(sign_in):
        return _link_spent(sign_in, token)
    workspace = db.session.get(Workspace, sign_in.workspace_id)
    return _page(
        "public/login_link.html",
        token=token,
        email=masked(sign_in.lead.email or ""),
        workspace_name=workspace.name if workspace else "",
    )


@bp.post("/j/login/<token>")
def lead_login_use(token: str) -> Response:
    """Spend the link and sign its lead in on this browser; then their journeys."""
    sign_in = find_sign_in(token)
    if sign_in is None:
        return _link_not_found()
    if not _csrf_valid():
        return redirect(url_for("public.lead_login_link", token=token), 303)
    if not use_sign_in(sign_in):
        db.session.rollback()
        return _link_spent(sign_in, token)
    db.session.commit()
    sign_in_lead(sign_in.lead)
    return redirect(url_for("public.lead_journeys"), 303)


@bp.post("/j/login/<token>/renew")
@limiter.limit(RENEW_RATE_LIMIT, methods=["POST"])
def lead_login_renew(token: str) -> Response:
    """Email a fresh sign-in link to the lead of a spent or expired one."""
    sign_in = find_sign_in(token)
    if sign_in is None or not sign_in.lead.email:
        return _link_not_found()
    if usable(sign_in):
        return redirect(url_for("public.lead_login_link", token=token), 303)
    email_sign_in_link(sign_in.lead)
    db.session.commit()
    return message_page(
        200,
        _("Check your inbox"),
        [_("We have sent a new sign-in link to %(email)s.", email=masked(sign_in.lead.email))],
    )


@bp.get("/j/")
def lead_journeys() -> Response:
    """The signed-in lead's journeys: each with its progress and what is next."""
    lead = signed_in_lead()
    if lead is None:
        return redirect(url_for("public.lead_login"), 303)
    journeys = db.session.scalars(
        db.select(Journey).filter_by(lead_id=lead.id).order_by(Journey.created_at.desc())
    )
    views = [journey_view(journey) for journey in journeys]
    funnel_ids = {view.journey.funnel_id for view in views}
    funnels = db.session.scalars(db.select(Funnel).where(Funnel.id.in_(funnel_ids)))
    names = {funnel.id: funnel.name for funnel in funnels}
    workspace = db.session.get(Workspace, lead.workspace_id)
    return _page(
        "public/journeys.html",
        lead=lead,
        views=views,
        funnel_names=names,
        workspace_name=workspace.name if workspace else "",
    )


@bp.post("/j/logout")
def lead_logout() -> Response:
    """Sign the lead out on this browser (staff signed in on it stay signed in)."""
    if not _csrf_valid():
        return redirect(url_for("public.lead_journeys"), 303)
    sign_out_lead()
    return redirect(url_for("public.lead_login", signed_out=1), 303)
