"""The journey page's actions for the lead's upload, sign, video and booking steps."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.extensions import db
from leadsite.journeys import lead_activities
from leadsite.journeys.engine import StepNotOpen
from leadsite.journeys.lead_activities import Client, LeadActionRefused
from leadsite.journeys.uploads import MAX_UPLOAD_BYTES, UPLOAD_REQUEST_BYTES
from leadsite.models import ActivityKind, Journey, JourneyStep, StepStatus, utcnow
from leadsite.public import bp
from leadsite.public.journey import NOT_NOW, STALE, _expired, _find, _not_found, _render
from leadsite.public.journey_state import journey_view
from leadsite.public.step_panels import booking_return_url
from leadsite.public.tokens import journey_action_token_valid

STEP = "/j/<token>/steps/<step_id>"


class Refusal(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _open_step(token: str, step_id: str, kind: str, check_token: bool = True) -> JourneyStep:
    """The lead's due step of this kind on a live journey, or a `Refusal` saying why not."""
    journey = _find(token)
    if journey is None:
        raise Refusal(_not_found())
    if journey.valid_until <= utcnow():
        raise Refusal(_expired(journey))
    if check_token and not journey_action_token_valid(request.form.get("_token", ""), journey.id):
        raise Refusal(_render(journey, 400, notice=STALE, error_step=step_id))
    task = next((t for t in journey_view(journey).tasks if t.step.id == step_id), None)
    if task is None or task.state != "todo" or task.step.kind != kind:
        raise Refusal(_render(journey, 409, notice=NOT_NOW))
    return task.step


def _client() -> Client:
    return Client(request.remote_addr, request.user_agent.string[:300] or None)


def _refused(
    journey: Journey, step_id: str, refusal: LeadActionRefused, typed: dict | None = None
) -> Response:
    """Nothing kept; the page again with the message on its field and what was typed."""
    db.session.rollback()
    errors = {refusal.field: refusal.message}
    return _render(journey, refusal.status, errors=errors, error_step=step_id, values=typed or {})


def _done(journey: Journey, token: str, finished: bool = True) -> Response:
    """Commit; on to the journey's redirect URL once nothing is left for the lead, else back
    (thanking them when the step is `finished`: an upload may need more files)."""
    db.session.commit()
    redirect_url = values.stored_url_text(journey.redirect_url)
    if redirect_url and journey_view(journey).all_done:
        return redirect(redirect_url, 303)
    saved = {"saved": 1} if finished else {}
    return redirect(url_for("public.journey_page", token=token, **saved), 303)


@bp.post(f"{STEP}/upload")
def journey_step_upload(token: str, step_id: str) -> Response:
    """Keep the files the lead uploads (all or none); the step is done once enough are in."""
    request.max_content_length = UPLOAD_REQUEST_BYTES
    try:
        request.form  # noqa: B018  (parsing here: a body too large is refused on the field)
    except RequestEntityTooLarge:
        journey = _find(token)
        if journey is None:
            return _not_found()
        limit = _(
            "That is more than %(size)s MB: upload a smaller file, or fewer files at a time.",
            size=MAX_UPLOAD_BYTES // 2**20,
        )
        return _render(journey, 413, errors={"file": limit}, error_step=step_id)
    try:
        step = _open_step(token, step_id, ActivityKind.UPLOAD)
        lead_activities.add_uploads(step.journey, step, request.files.getlist("file"), _client())
    except Refusal as refusal:
        return refusal.response
    except LeadActionRefused as refusal:
        return _refused(step.journey, step_id, refusal)
    except StepNotOpen:
        db.session.rollback()
        return _render(step.journey, 409, notice=NOT_NOW)
    return _done(step.journey, token, finished=step.status == StepStatus.DONE)


@bp.post(f"{STEP}/sign")
def journey_step_sign(token: str, step_id: str) -> Response:
    """Record the lead's signature of the text they were shown."""
    try:
        step = _open_step(token, step_id, ActivityKind.SIGN)
        lead_activities.sign(
            step.journey,
            step,
            name=request.form.get("name", ""),
            consented=request.form.get("consent") == "on",
            shown_hash=request.form.get("text_sha256", ""),
            client=_client(),
        )
    except Refusal as refusal:
        return refusal.response
    except LeadActionRefused as refusal:
        # What they typed stays; but a text that changed is to be read (and ticked) anew.
        typed = {} if refusal.field == "text" else dict(request.form)
        return _refused(step.journey, step_id, refusal, typed)
    except StepNotOpen:
        db.session.rollback()
        return _render(step.journey, 409, notice=NOT_NOW)
    return _done(step.journey, token)


@bp.post(f"{STEP}/watched")
def journey_step_watched(token: str, step_id: str) -> Response:
    """The lead says they watched the video."""
    try:
        step = _open_step(token, step_id, ActivityKind.VIDEO)
        lead_activities.mark_watched(step.journey, step, _client())
    except Refusal as refusal:
        return refusal.response
    except StepNotOpen:
        db.session.rollback()
        return _render(step.journey, 409, notice=NOT_NOW)
    return _done(step.journey, token)


@bp.get(f"{STEP}/book")
def journey_step_book(token: str, step_id: str) -> Response:
    """Record the click and send the lead to the scheduler, telling it where to send them back."""
    try:
        step = _open_step(token, step_id, ActivityKind.BOOKING, check_token=False)
    except Refusal as refusal:
        return refusal.response
    url = (step.activity.config or {}).get("url") if step.activity else None
    parsed = values.stored_url(url if isinstance(url, str) else None)
    if parsed is None or parsed.scheme != "https":
        return _render(step.journey, 409, notice=_("This booking link is not set up yet."))
    lead_activities.booking_clicked(step.journey, step, _client())
    db.session.commit()
    return redirect(with_return(parsed.text, booking_return_url(token, step_id)), 303)


@bp.route(f"{STEP}/booked", methods=["GET", "POST"])
def journey_step_booked(token: str, step_id: str) -> Response:
    """The lead is back from the scheduler (GET, its redirect) or says they booked (POST)."""
    returned = request.method == "GET"
    try:
        step = _open_step(token, step_id, ActivityKind.BOOKING, check_token=not returned)
        lead_activities.booked(step.journey, step, _client(), "returned" if returned else "said")
    except Refusal as refusal:
        if returned and refusal.response.status_code == 409:  # back again: already done
            return redirect(url_for("public.journey_page", token=token), 303)
        return refusal.response
    except StepNotOpen:
        db.session.rollback()
        return _render(step.journey, 409, notice=NOT_NOW)
    return _done(step.journey, token)


def with_return(url: str, return_url: str) -> str:
    """`url` with `return=<return_url>` added to its query (replacing one it had)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "return"]
    return urlunsplit(parts._replace(query=urlencode([*query, ("return", return_url)])))
