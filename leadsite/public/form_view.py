"""What the hosted page and the embed form share: find the origin, show the form, register."""

from __future__ import annotations

import os
import time

from flask import Flask, current_app, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from leadsite import i18n, values
from leadsite.api.cors import origin_allowed
from leadsite.api.ingest import note
from leadsite.extensions import db
from leadsite.models import Funnel, Journey, Origin, OriginKind
from leadsite.public.beacon import Beacon, count_hosted_view
from leadsite.public.csp_reports import allow_embed_framing
from leadsite.public.fields import FormSettings, form_settings
from leadsite.public.form_steps import Move, error_step, move
from leadsite.public.framing import allow_form_action, foreign_origin, url_origin
from leadsite.public.pages import Done, FormPage, message_page, render_form, wants_fragment
from leadsite.public.submission import Attribution, Submission
from leadsite.public.submit import DIALECT, Outcome, min_fill_seconds, submit
from leadsite.public.tokens import form_token
from leadsite.registration import FunnelClosed, RegistrationContext, check_open

DEFAULT_RATE_LIMIT = "20 per minute"
MAX_BODY_BYTES = 64 * 1024


def configure(app: Flask) -> None:
    """Settings of the public forms, from the app's config or else the environment."""
    for name, default in (
        ("PUBLIC_FORM_RATE_LIMIT", DEFAULT_RATE_LIMIT),
        ("PUBLIC_FORM_MIN_FILL_SECONDS", "2"),
    ):
        app.config.setdefault(name, os.environ.get(name, default))


def form_rate_limit() -> str:
    return str(current_app.config.get("PUBLIC_FORM_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def rate_limit_key() -> str:
    """Per IP and per origin: one busy site does not lock out the lead on another."""
    ref = (request.view_args or {}).get("ref", "")
    return f"public-form:{request.remote_addr}:{ref}"


def find_origin(ref: str, kind: OriginKind) -> Origin | None:
    return db.session.scalar(db.select(Origin).filter_by(ref=ref, kind=kind))


def closed_page(status: int, embed: bool) -> Response:
    if status == 404:
        return message_page(
            404,
            _("This form does not exist"),
            [_("The link may be mistyped, or the form may have been taken down.")],
            embed,
        )
    return message_page(
        status,
        _("Registrations are closed"),
        [_("This form is not taking registrations at the moment. Thank you for your interest.")],
        embed,
    )


def form_view(ref: str, kind: OriginKind, embed: bool) -> Response:
    """Show an origin's form (GET) or register what it sends (POST)."""
    origin = find_origin(ref, kind)
    if origin is None:
        return closed_page(404, embed)
    i18n.speak(i18n.origin_language(origin))
    if embed:
        allow_embed_framing(origin)
    funnel = db.session.get(Funnel, origin.funnel_id)
    if not origin.active or funnel is None:
        return closed_page(404, embed)
    try:
        check_open(funnel)
    except FunnelClosed as closed:
        if request.method == "POST":
            note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)
            note(code=closed.code, message=closed.message)
        return closed_page(423, embed)
    settings = form_settings(origin, funnel)
    if request.method != "POST":  # GET, or HEAD (which Flask routes here too)
        attribution = _embed_attribution() if embed else _hosted_attribution()
        page = _page(origin, settings, embed, form_token(origin.ref), attribution)
        page.embed_script = embed and request.args.get("js") == "1"
        page.beacon = Beacon.of(origin, attribution)
        if not embed:
            count_hosted_view(origin, attribution)
        return _with_form_action(render_form(page), origin, embed)

    if foreign_origin(origin):
        return message_page(
            403,
            _("This form cannot be sent from another site"),
            [
                _(
                    "The page you sent it from is not allowed to send this form. Open the form "
                    "itself and send it from there."
                ),
            ],
            embed,
            link=url_for(_endpoint(embed), ref=origin.ref),
            link_label=_("Open the form"),
        )
    request.max_content_length = MAX_BODY_BYTES
    submission = Submission.read(request.form, settings)
    context = RegistrationContext(
        ip=request.remote_addr,
        user_agent=request.user_agent.string[:500] or None,
        referrer=submission.attribution.referrer,
    )
    step = move(origin, funnel, settings, submission, context)
    if step is not None:
        return _show_step(origin, settings, submission, step, embed)
    outcome = submit(origin, funnel, settings, submission, context)
    if outcome.closed is not None:
        return closed_page(outcome.closed.status, embed)
    if outcome.failed:
        return _show_errors(origin, settings, submission, outcome, embed)
    return _show_done(origin, settings, submission, outcome, embed)


def rate_limited(origin_kind: OriginKind, embed: bool, ref: str) -> Response:
    """The form again, everything typed kept, saying to wait: nothing is lost to a 429."""
    origin = find_origin(ref, origin_kind)
    if origin is not None:
        i18n.speak(i18n.origin_language(origin))
    funnel = db.session.get(Funnel, origin.funnel_id) if origin else None
    if origin is None or funnel is None or request.method != "POST":
        return message_page(429, _("Too many attempts"), [_("Wait a minute and try again.")], embed)
    if embed:
        allow_embed_framing(origin)
    settings = form_settings(origin, funnel)
    submission = Submission.read(request.form, settings)
    message = _(
        "Too many registrations were sent from your network just now. Wait a minute, then "
        "send the form again: everything you typed is still here."
    )
    outcome = Outcome(form_errors=[message])
    response = _show_errors(origin, settings, submission, outcome, embed, status=429)
    response.headers["Retry-After"] = "60"
    return response


def _endpoint(embed: bool) -> str:
    return "public.embed_form" if embed else "public.registration_page"


def _page(
    origin: Origin,
    settings: FormSettings,
    embed: bool,
    token: str,
    attribution: Attribution,
) -> FormPage:
    page = FormPage(
        settings=settings,
        action=url_for(_endpoint(embed), ref=origin.ref),
        token=token,
        attribution=attribution,
        embed=embed,
    )
    if embed:
        parent = url_origin(attribution.source_url)
        if parent and origin_allowed(parent, origin.allowed_domains or []):
            page.parent_origin = parent
    return page


def _hosted_attribution() -> Attribution:
    return Attribution.read(request.url, request.referrer, request.args)


def _embed_attribution() -> Attribution:
    """embed.js passes the parent page's URL and referrer; a plain iframe only has the Referer
    header (the parent's origin, under most referrer policies)."""
    args = request.args
    return Attribution.read(args.get("url") or request.referrer, args.get("referrer"), args)


def _show_errors(
    origin: Origin,
    settings: FormSettings,
    submission: Submission,
    outcome: Outcome,
    embed: bool,
    status: int | None = None,
) -> Response:
    # The fill time runs from when the lead first got the form: they must not be taken for a bot
    # when they correct one field and send it again at once. Without a readable token (missing,
    # forged, expired), backdated.
    opened = outcome.opened_at or time.time() - min_fill_seconds()
    token = form_token(origin.ref, opened)
    page = _page(origin, settings, embed, token, submission.attribution)
    page.values, page.consent = submission.values, submission.consent
    page.errors, page.form_errors = outcome.errors, outcome.form_errors
    page.step = error_step(settings, outcome.errors, submission.step)
    status = status or outcome.status or (422 if outcome.errors else 400)
    return _with_form_action(render_form(page, status), origin, embed)


def _show_step(
    origin: Origin, settings: FormSettings, submission: Submission, step: Move, embed: bool
) -> Response:
    """Another step of a multi-step form: nothing is registered, the token rides along."""
    page = _page(origin, settings, embed, submission.token, submission.attribution)
    page.values, page.consent = submission.values, submission.consent
    page.errors, page.step = step.errors, step.step
    return _with_form_action(render_form(page, 422 if step.errors else 200), origin, embed)


def _show_done(
    origin: Origin,
    settings: FormSettings,
    submission: Submission,
    outcome: Outcome,
    embed: bool,
) -> Response:
    journey = outcome.registration.journey if outcome.registration else None
    target = values.stored_url_text(journey.redirect_url if journey else None) or (
        values.stored_url_text(origin.redirect_url)
    )
    scripted = embed or wants_fragment()
    if target and not scripted and url_origin(target) == url_origin(origin.redirect_url):
        return redirect(target, 303)  # the page's form-action allows this site
    page = _page(origin, settings, embed, "", submission.attribution)
    page.done = _done(origin, journey, target, held=outcome.held is not None)
    if target and not scripted:
        page.refresh_to = target  # a site form-action does not list: go there from our page
    return render_form(page)


def _done(origin: Origin, journey: Journey | None, target: str | None, held: bool) -> Done:
    texts = i18n.staff_texts(origin.settings, i18n.current())
    success = i18n.staff_text(texts, "success_message", origin.success_message)
    paragraphs = [success or _("Thank you: you are registered.")]
    if held:
        # Kept, but nothing is sent until staff accept it: say so rather than promise an email.
        paragraphs.append(
            _("We have received your details and will be in touch once we have checked them.")
        )
        return Done(_("Thank you"), paragraphs, target)
    lead = journey.lead if journey else None
    funnel = db.session.get(Funnel, origin.funnel_id)
    if funnel is not None and funnel.double_opt_in and (lead is None or not lead.confirmed_at):
        paragraphs.append(
            _("We have sent you an email: open the link in it to confirm your registration.")
        )
    return Done(_("Thank you"), paragraphs, target)


def _with_form_action(response: Response, origin: Origin, embed: bool) -> Response:
    return response if embed else allow_form_action(response, origin.redirect_url)
