"""External stakeholders: the one-time link, and its email, by which a person outside the company
does one step of a journey (a `stakeholder_task`), and finding such a link again.

An activity's config (`Activity.config`):

- `email` (a fixed address) or `email_data_point` (the name of a data point of the journey that
  holds it, e.g. `accountant_email`): one of the two;
- `action`: `approve` (approve or reject, with a comment; a rejection needs one), `fill` (fill in
  the data points named in `data_points`) or `upload` (a document; `accept` and `max_mb` as
  `journeys.uploads` reads them);
- `instructions`, shown on the stakeholder's page and in the email; `show_data_points`, the
  journey data the stakeholder sees (nothing else of the lead but their name);
  `decision_data_point`, a data point that receives `approved` or `rejected` (conditions and
  decisions branch on it); `valid_days`, how long the link works (default 14, at most 90).

When its stage is entered, `ask_stakeholders` makes the link and queues the email in the same
transaction (sent when the step is due: a stage's delay delays it). With no address to write
to, the step fails and says why; staff fix the data and Retry (`stakeholder_answers.resend`).
Only the token's SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template
from flask_babel import force_locale, format_date

from leadsite import i18n, representations, values
from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    Channel,
    Funnel,
    Journey,
    JourneyStep,
    Lead,
    OutboxMessage,
    StakeholderLink,
    StepStatus,
    Workspace,
)
from leadsite.outbox import event_types
from leadsite.outbox.events import EventWriter

if TYPE_CHECKING:
    from leadsite.journeys.conditions import Facts
    from leadsite.journeys.plan import StagePlan

ACTIONS = ("approve", "fill", "upload")
DEFAULT_VALID_DAYS = 14
MAX_VALID_DAYS = 90
MAX_INSTRUCTIONS = 2000
APPROVED, REJECTED, DONE = "approved", "rejected", "done"


class NoAddress(Exception):
    """The step has no valid address to email the stakeholder at: the message says why."""


def config_problems(config: dict[str, Any]) -> list[str]:
    """Every problem with a `stakeholder_task` config, as `<key>: <sentence>` (or a sentence)."""
    problems = []
    email, point = config.get("email"), config.get("email_data_point")
    if bool(email) == bool(point):
        problems.append("email: give either an email address or the data point holding one")
    elif email:
        try:
            values.email(email)
        except values.Invalid:
            problems.append("email: not an email address")
    action = config.get("action", "approve")
    if action not in ACTIONS:
        problems.append(f"action: must be one of {', '.join(ACTIONS)}")
    if action == "fill" and not _names(config.get("data_points")):
        problems.append("data_points: choose the data points the stakeholder fills in")
    days = config.get("valid_days", DEFAULT_VALID_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_VALID_DAYS:
        problems.append(f"valid_days: a whole number of days from 1 to {MAX_VALID_DAYS}")
    for key in ("data_points", "show_data_points"):
        if key in config and not isinstance(config[key], list):
            problems.append(f"{key}: must be a list of data point names")
    return problems


def _names(value: Any) -> list[str]:
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def shown_names(config: dict[str, Any]) -> list[str]:
    """The data points the stakeholder sees."""
    return _names(config.get("show_data_points"))


def filled_names(config: dict[str, Any]) -> list[str]:
    """The data points the stakeholder fills in (`fill` only)."""
    return _names(config.get("data_points")) if config.get("action") == "fill" else []


def action(config: dict[str, Any]) -> str:
    chosen = config.get("action")
    return chosen if chosen in ACTIONS else "approve"


def stakeholder_address(config: dict[str, Any], data: dict[str, Any]) -> str:
    """The address to email, from the config or the journey's data; `NoAddress` says why not."""
    point = config.get("email_data_point")
    raw = data.get(point) if point else config.get("email")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if point:
            raise NoAddress(f"no stakeholder email: the data point {point} is empty")
        raise NoAddress("no stakeholder email is configured")
    try:
        address = values.email(raw)
    except values.Invalid:
        where = f"the data point {point}" if point else "the activity"
        raise NoAddress(f"no stakeholder email: {where} holds no valid email address") from None
    if not address:
        raise NoAddress("no stakeholder email is configured")
    return address


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_link(token: str) -> StakeholderLink | None:
    """The link this token opens, whatever its state."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(db.select(StakeholderLink).filter_by(token_hash=token_hash(token)))


def link_url(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/s/{token}"


def ask_stakeholders(
    journey: Journey, stage: StagePlan, facts: Facts, now: datetime, writer: EventWriter
) -> None:
    """Email a link to the stakeholder of each stakeholder step the stage entered made due.

    Called by the engine right after a stage is entered; its rows go where the engine's events
    go (the session, or the registration's new rows)."""
    configs = {activity.id: activity.config for activity in stage.activities}
    steps = [
        step
        for step in journey.steps
        if step.stage_id == stage.id
        and step.kind == ActivityKind.STAKEHOLDER_TASK
        and step.status == StepStatus.DUE
    ]
    if steps:
        data = facts.data()
        for step in steps:
            send_link(journey, step, configs.get(step.activity_id or "") or {}, data, now, writer)


def send_link(
    journey: Journey,
    step: JourneyStep,
    config: dict[str, Any],
    data: dict[str, Any],
    now: datetime,
    writer: EventWriter,
) -> StakeholderLink | None:
    """Make the step's link and queue its email; or fail the step when there is no address."""
    try:
        address = stakeholder_address(config, data)
    except NoAddress as error:
        fail_step(journey, step, str(error), writer)
        return None
    token = secrets.token_urlsafe(32)
    send_at = max(step.due_at or now, now)
    days = config.get("valid_days", DEFAULT_VALID_DAYS)
    days = days if isinstance(days, int) and 1 <= days <= MAX_VALID_DAYS else DEFAULT_VALID_DAYS
    link = StakeholderLink(
        workspace_id=journey.workspace_id,
        journey_id=journey.id,
        step_id=step.id,
        email=address,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=send_at + timedelta(days=days),
    )
    message = _request_email(journey, step, config, address, token, link.expires_at, send_at)
    link.message_id = message.id
    writer.add(message)  # before the link: NewRows writes a table's rows in one statement
    writer.add(link)
    return link


def fail_step(journey: Journey, step: JourneyStep, error: str, writer: EventWriter) -> None:
    """FAIL the step, holding its stage, with an event saying why (as the engine does)."""
    step.status, step.result = StepStatus.FAILED, {"error": error}
    writer.emit(
        event_types.JOURNEY_STEP_FAILED,
        {
            "journey_id": journey.id,
            "lead_id": journey.lead_id,
            "funnel_id": journey.funnel_id,
            "step": {**representations.step_dict(step), "result": step.result},
            "error": error,
        },
        journey_id=journey.id,
    )


def _request_email(
    journey: Journey,
    step: JourneyStep,
    config: dict[str, Any],
    address: str,
    token: str,
    expires_at: datetime,
    send_at: datetime,
) -> OutboxMessage:
    lead = journey.lead or db.session.get(Lead, journey.lead_id)
    funnel = db.session.get(Funnel, journey.funnel_id)
    workspace = db.session.get(Workspace, journey.workspace_id)
    context = {
        "title": step.title,
        "lead_name": lead.name if lead else "",
        "funnel_name": funnel.name if funnel else "",
        "workspace_name": workspace.name if workspace else "",
        "instructions": str(config.get("instructions") or ""),
        "action": action(config),
        "url": link_url(token),
    }
    subject = f"{step.title}: {context['lead_name']}" if context["lead_name"] else step.title
    # The stakeholder is asked in the lead's language: the only one the journey knows.
    with force_locale(i18n.lead_language(lead)):
        context["valid_until"] = format_date(expires_at, "long")
        text = render_template("emails/stakeholder_request.txt", **context)
        html = render_template("emails/stakeholder_request.html", **context)
    return OutboxMessage(
        workspace_id=journey.workspace_id,
        lead_id=journey.lead_id,
        channel=Channel.EMAIL,
        target=address,
        payload={
            "subject": " ".join(subject.split())[:200],
            "text": text,
            "html": html,
            "headers": {},
            # The link is the stakeholder's key: the back-office mailbox does not show it.
            "private": True,
        },
        next_attempt_at=send_at,
    )
