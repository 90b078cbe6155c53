"""`/s/<token>`: the one step an external stakeholder was emailed about, and their answer.

The page shows only that step: its title and instructions, the lead's name and the journey data
the activity exposes. Nothing on it names another step or lead. The token in the URL is the
stakeholder's key (no session, no cookie), so the page is never cached nor sent as a referrer.
"""

from __future__ import annotations

from typing import Any

from flask import make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from leadsite import i18n
from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.journeys.conditions import data_values
from leadsite.journeys.stakeholder_answers import (
    ANSWERED,
    EXPIRED,
    OPEN,
    LinkClosed,
    Reply,
    answer,
    data_points,
    link_state,
    mark_opened,
    step_config,
)
from leadsite.journeys.stakeholders import action, filled_names, find_link, shown_names
from leadsite.journeys.uploads import UPLOAD_REQUEST_BYTES, accepted
from leadsite.models import Lead, StakeholderLink
from leadsite.public import bp
from leadsite.public.fields import data_point_field
from leadsite.public.pages import message_page

DECISIONS = {
    "approved": lazy_gettext("You approved it"),
    "rejected": lazy_gettext("You rejected it"),
    "done": lazy_gettext("You did it"),
}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL is the stakeholder's key
    return response


def _not_found() -> Response:
    return _private(
        message_page(
            404,
            _("This link does not work"),
            [_("It may be mistyped. Open the link in the latest email you were sent.")],
        )
    )


def _not_open(link: StakeholderLink, state: str) -> Response:
    """The page of a link that cannot be answered: answered, expired, or no longer needed."""
    if state == ANSWERED:
        when = i18n.moment(link.decided_at) if link.decided_at else ""
        said = DECISIONS.get(link.decision or "") or _("You answered")
        page = message_page(
            410,
            _("Already answered"),
            [_("%(answer)s on %(when)s.", answer=said, when=when), _("Thank you.")],
        )
    elif state == EXPIRED:
        page = message_page(
            410,
            _("This link has expired"),
            [_("Ask the people who sent it to you for a new one.")],
        )
    else:
        page = message_page(410, _("Nothing is needed any more"), [_("This request was closed.")])
    return _private(page)


def _render(link: StakeholderLink, status: int = 200, **context: Any) -> Response:
    config = step_config(link)
    journey = link.journey
    lead = db.session.get(Lead, journey.lead_id)
    shown = shown_names(config)
    points = data_points(link.workspace_id, [*shown, *filled_names(config)])
    data = data_values(journey) if shown else {}
    exposed = [
        (points[name].label, data[name])
        for name in shown
        if name in points and data.get(name) not in (None, "")
    ]
    fields = [
        field
        for name in filled_names(config)
        if (field := data_point_field({"data_point": name, "required": True}, points))
    ]
    body = render_template(
        "public/stakeholder.html",
        link=link,
        step=link.step,
        lead_name=lead.name if lead else "",
        instructions=str(config.get("instructions") or ""),
        action=action(config),
        exposed=exposed,
        fields=fields,
        accept=", ".join(f".{item}" for item in accepted(config)[0]),
        max_mb=accepted(config)[1] // (1024 * 1024),
        **{"errors": {}, "values": {}, **context},
    )
    return _private(make_response(body, status))


@bp.get("/s/<token>")
def stakeholder_page(token: str) -> Response:
    """The step a stakeholder is asked to do, with what they need to see to do it."""
    link = find_link(token)
    if link is None or db.session.get(Lead, link.journey.lead_id) is None:
        return _not_found()
    if request.args.get("answered") == "1" and link.decided_at is not None:
        said = DECISIONS.get(link.decision or "") or _("Your answer was sent")
        recorded = _("%(answer)s. Your answer was recorded.", answer=said)
        return _private(message_page(200, _("Thank you"), [recorded]))
    state = link_state(link)
    if state != OPEN:
        return _not_open(link, state)
    if link.opened_at is None:
        db.session.rollback()  # end the read: the write takes SQLite's write lock first
        begin_write_transaction()
        mark_opened(link)
        db.session.commit()
    return _render(link)


@bp.post("/s/<token>")
def stakeholder_answer(token: str) -> Response:
    """Approve or reject with a comment, fill in data points, or upload a document: once."""
    request.max_content_length = UPLOAD_REQUEST_BYTES
    link = find_link(token)
    if link is None or db.session.get(Lead, link.journey.lead_id) is None:
        return _not_found()
    state = link_state(link)
    if state != OPEN:
        return _not_open(link, state)
    if request.form.get("step") != link.step_id:
        return _private(
            message_page(
                400,
                _("This answer is for another request"),
                [_("Open the link in the email again and answer on its page.")],
            )
        )
    typed = {key: value for key, value in request.form.items() if key.startswith("data.")}
    reply = Reply(
        decision=request.form.get("decision"),
        comment=request.form.get("comment", ""),
        form=typed,
        upload=request.files.get("document"),
        ip=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    try:
        errors = answer(link, reply)
    except LinkClosed:
        db.session.rollback()
        link = find_link(token)
        return _not_open(link, link_state(link)) if link else _not_found()
    if errors:
        db.session.rollback()
        values = {**typed, "comment": reply.comment}
        return _render(find_link(token) or link, 422, errors=errors, values=values)
    db.session.commit()
    return redirect(url_for("public.stakeholder_page", token=token, answered=1), 303)
