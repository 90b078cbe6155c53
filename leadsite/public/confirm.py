"""Double opt-in: the confirmation email, and its link `/confirm/<token>`: a page whose one
button confirms (a POST), so that a mail scanner opening the link confirms nothing."""

from __future__ import annotations

from flask import current_app, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from leadsite import i18n, values
from leadsite.analytics.counters import count_journey
from leadsite.extensions import db, limiter
from leadsite.journeys.confirmation import start_confirmed
from leadsite.journeys.sessions import fresh_page_link
from leadsite.journeys.waits import recheck_lead
from leadsite.leads.changes import lock_leads
from leadsite.models import (
    FormEvent,
    Funnel,
    Journey,
    JourneyStatus,
    Lead,
    Origin,
    OutboxMessage,
    utcnow,
)
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter
from leadsite.public import bp
from leadsite.public.emails import masked, queue_lead_email
from leadsite.public.journey_state import journey_view
from leadsite.public.pages import message_page
from leadsite.public.tokens import ConfirmLink, confirm_token, read_confirm_token
from leadsite.registration.signals import lead_registered
from leadsite.representations import journey_url, lead_dict

RESEND_RATE_LIMIT = "5 per hour"


def confirmation_url(lead: Lead, journey: Journey) -> str:
    return f"{current_app.config['BASE_URL']}/confirm/{confirm_token(lead.id, journey.id)}"


def send_confirmation(lead: Lead, journey: Journey) -> OutboxMessage | None:
    """Queue the confirmation email when the journey's funnel asks for double opt-in and the
    lead has not confirmed yet (nor been erased, and has an email). Writes to the outbox in the
    caller's transaction; never commits. Returns the message, or None when none was due."""
    funnel = db.session.get(Funnel, journey.funnel_id)
    if funnel is None or not funnel.double_opt_in:
        return None
    if lead.confirmed_at is not None or lead.erased_at is not None or not lead.email:
        return None
    return queue_lead_email(
        lead,
        "confirm",
        lazy_gettext("Confirm your registration: %(funnel)s", funnel=funnel.name),
        funnel_name=funnel.name,
        confirm_url=confirmation_url(lead, journey),
    )


@lead_registered.connect
def _confirm_registration(lead: Lead, journey: Journey, **_: object) -> None:
    """Every registration asks for the lead's confirmation when its funnel wants double opt-in
    (the pipeline sends `lead_registered`: it imports no door)."""
    send_confirmation(lead, journey)


def confirm_lead(lead: Lead, journey: Journey | None) -> bool:
    """Mark the lead confirmed, write `lead.confirmed`, and start the journeys that waited for
    it (`confirmation.start_confirmed`); False (and nothing written) when it was confirmed
    already. The caller commits."""
    lock_leads([lead])  # a second click at the same moment waits for this one, then sees it
    if lead.confirmed_at is not None:
        return False
    lead.confirmed_at = utcnow()
    count_journey(journey, FormEvent.CONFIRMED)
    EventWriter(lead.workspace_id, lead.id).emit(
        event_types.LEAD_CONFIRMED, lead_dict(lead), journey_id=journey.id if journey else None
    )
    start_confirmed(lead)
    recheck_lead(lead)  # "wait until confirmed"
    return True


def awaiting_confirmation(lead: Lead) -> bool:
    """True for a lead who registered in a double opt-in funnel and has not confirmed: what the
    back-office marks as unconfirmed."""
    if lead.confirmed_at is not None:
        return False
    return bool(
        db.session.scalar(
            db.select(Journey.id)
            .join(Funnel, Funnel.id == Journey.funnel_id)
            .filter(Journey.lead_id == lead.id, Funnel.double_opt_in.is_(True))
            .limit(1)
        )
    )


def _lead_and_journey(link: ConfirmLink) -> tuple[Lead | None, Journey | None]:
    lead = db.session.get(Lead, link.lead_id)
    if lead is None or lead.erased_at is not None:
        return None, None
    journey = db.session.get(Journey, link.journey_id) if link.journey_id else None
    if journey is not None and journey.lead_id != lead.id:
        journey = None
    return lead, journey


def _open(token: str) -> tuple[Lead | None, Journey | None, Response | None]:
    """The lead and journey a confirmation link names, or the page that refuses it (unknown,
    confirmed already, expired) as the third item."""
    link = read_confirm_token(token)
    lead, journey = _lead_and_journey(link) if link else (None, None)
    if link is None or lead is None:
        return None, None, _invalid()
    i18n.speak(i18n.lead_language(lead))
    if lead.confirmed_at is not None:
        return lead, journey, _confirmed_already(journey)
    if link.expired:
        return lead, journey, _expired(token)
    return lead, journey, None


def _invalid() -> Response:
    return message_page(
        404,
        _("This link does not work"),
        [_("It may be mistyped or incomplete. Open it again from the email we sent you.")],
    )


def _next_url(journey: Journey | None) -> str | None:
    if journey is None:
        return None
    origin = db.session.get(Origin, journey.origin_id) if journey.origin_id else None
    return values.stored_url_text(journey.redirect_url) or (
        values.stored_url_text(origin.redirect_url) if origin else None
    )


def _expired(token: str) -> Response:
    return message_page(
        410,
        _("This link has expired"),
        [_("Confirmation links work for 7 days. We can send you a new one.")],
        action=url_for("public.confirm_resend", token=token),
        action_label=_("Send me a new link"),
    )


def _confirmed_page(title: str, journey: Journey | None) -> Response:
    """Thanks, and what is next: the lead's next task, with the link to their journey page the
    journey emails give (its token renewed when it had expired); else where the funnel sends
    them once registered."""
    view = journey_view(journey) if journey is not None else None
    task = view.next_task if view is not None else None
    if journey is None or task is None:
        return message_page(
            200, title, [_("Thank you. There is nothing more to do.")], link=_next_url(journey)
        )
    fresh_page_link(journey)
    db.session.commit()
    if task.state == "todo":
        paragraphs = [
            _("Thank you. Your next step is “%(task)s”.", task=task.step.title),
            _("Your journey page shows it, and every step after it."),
        ]
        label = _("Go to my next step")
    else:
        paragraphs = [
            _("Thank you. There is nothing to do right now."),
            _(
                "Your next step, “%(task)s”, opens later: your journey page shows when.",
                task=task.step.title,
            ),
        ]
        label = _("See my journey")
    return message_page(200, title, paragraphs, link=journey_url(journey), link_label=label)


def _confirmed_already(journey: Journey | None) -> Response:
    return _confirmed_page(_("You had confirmed already"), journey)


@bp.get("/confirm/<token>")
def confirm(token: str) -> Response:
    """A page with one button that confirms: a GET changes nothing, since mail scanners and
    link previews open links that nobody clicked."""
    lead, _journey, refusal = _open(token)
    if refusal is not None:
        return refusal
    return message_page(
        200,
        _("Confirm your registration"),
        [
            _(
                "Confirm that %(email)s is your email address and that you signed up.",
                email=masked(lead.email or ""),
            )
        ],
        action=url_for("public.confirm_post", token=token),
        action_label=_("Yes, confirm my registration"),
    )


@bp.post("/confirm/<token>")
def confirm_post(token: str) -> Response:
    """Confirm the registration (the page's button); a second time says it is done already.
    The signed token is the proof, no other field is needed."""
    lead, journey, refusal = _open(token)
    if refusal is not None:
        return refusal
    confirmed_now = confirm_lead(lead, journey)
    db.session.commit()
    if not confirmed_now:  # another click confirmed it while this one waited for the lead
        return _confirmed_already(journey)
    return _confirmed_page(_("Your registration is confirmed"), journey)


@bp.post("/confirm/<token>/resend")
@limiter.limit(RESEND_RATE_LIMIT, methods=["POST"])
def confirm_resend(token: str) -> Response:
    """Send a fresh confirmation link in place of an expired one."""
    link = read_confirm_token(token)
    lead, journey = _lead_and_journey(link) if link else (None, None)
    if link is None or lead is None:
        return _invalid()
    i18n.speak(i18n.lead_language(lead))
    if lead.confirmed_at is not None:
        return _confirmed_already(journey)
    if journey is None or send_confirmation(lead, journey) is None:
        return _cannot_resend()
    db.session.commit()
    return _resent(lead)


def _cannot_resend() -> Response:
    return message_page(
        404, _("We cannot send a new link"), [_("Register again to receive a new one.")]
    )


def _resent(lead: Lead) -> Response:
    return message_page(
        200,
        _("Check your inbox"),
        [_("We have sent a new confirmation link to %(email)s.", email=masked(lead.email or ""))],
    )


@bp.post("/j/<token>/confirm-resend")
@limiter.limit(RESEND_RATE_LIMIT, methods=["POST"])
def journey_confirm_resend(token: str) -> Response:
    """From the page of a journey awaiting confirmation: email the confirmation link again."""
    journey = db.session.scalar(db.select(Journey).filter_by(access_token=token))
    lead = db.session.get(Lead, journey.lead_id) if journey is not None else None
    if journey is None or lead is None or lead.erased_at is not None:
        return _invalid()
    if journey.status != JourneyStatus.AWAITING or lead.confirmed_at is not None:
        return redirect(url_for("public.journey_page", token=token), 303)
    i18n.speak(i18n.lead_language(lead))
    if send_confirmation(lead, journey) is None:
        return _cannot_resend()
    db.session.commit()
    return _resent(lead)
