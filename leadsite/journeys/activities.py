"""What each automatic activity does when its step runs, and checking an activity's config.

Config, by kind (`Activity.config`):

- `email_lead`: `{"subject": ..., "body": ...}`, both Jinja text rendered in the sandbox with
  `lead`, `data`, `journey_url` and `funnel` (see `emails.template_context`); no body: a greeting.
- `notify_staff`: `{"to": [...], "subject": ..., "note": ...}`, all optional; `to` defaults to the
  funnel's `notify_emails`.
- `webhook`: `{"url": "https://..."}`; the worker delivers the outbox message, and the step
  waits for it (`webhook_steps`): done on a 2xx, failed when the delivery dies.
- `set_status`: `{"status": "qualified"}`; `add_tag`: `{"tag": "vip"}`.
- `wait`: `{"minutes": N}`, `{"hours": N}` or `{"days": N}` (they add up).
- `wait_until`: `{"condition": {...}, "timeout": {"days": N}, "on_timeout": ...}`: see `waits`.
- `lead_task`, `staff_task`: done by a person, never run here; so are the lead's `upload`,
  `sign`, `video` and `booking` (`lead_activity_config` checks their config).
- `stakeholder_task`: done by a person outside the company through an emailed link (see
  `journeys.stakeholders`), never run here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadsite import values
from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.journeys import stakeholders, waits
from leadsite.journeys.conditions import Facts, data_values
from leadsite.journeys.emails import (
    TemplateFailed,
    check_template,
    lead_email,
    sample_budget_problem,
    staff_email,
)
from leadsite.journeys.lead_activity_config import LEAD_KINDS, config_problems
from leadsite.models import (
    ActivityKind,
    Channel,
    Journey,
    JourneyStep,
    Lead,
    OutboxMessage,
    utcnow,
)
from leadsite.outbox import event_types
from leadsite.outbox.email import queue_email
from leadsite.outbox.events import EventWriter
from leadsite.outbox.staff_email import queue_staff_emails
from leadsite.outbox.webhook_urls import webhook_url_problem
from leadsite.representations import iso, journey_summary, lead_dict
from leadsite.values import MAX_TAG

AUTOMATIC_KINDS = (
    ActivityKind.EMAIL_LEAD,
    ActivityKind.NOTIFY_STAFF,
    ActivityKind.WEBHOOK,
    ActivityKind.SET_STATUS,
    ActivityKind.ADD_TAG,
    ActivityKind.WAIT,
    ActivityKind.WAIT_UNTIL,
)
MANUAL_KINDS = (
    ActivityKind.LEAD_TASK,
    ActivityKind.STAFF_TASK,
    ActivityKind.STAKEHOLDER_TASK,
    *LEAD_KINDS,
)
MAX_STATUS = 40
MAX_WAIT = timedelta(days=3650)
WAIT_UNITS = ("minutes", "hours", "days")
WEBHOOK_ACTIVITY = "journey.activity"


class ActivityFailed(Exception):
    """The activity cannot run as configured; the message is kept on the failed step."""


@dataclass
class Outcome:
    result: dict[str, Any]
    skipped: bool = False
    waiting: bool = False  # the effect is still to happen: the step waits (a webhook)


@dataclass
class Run:
    """One automatic step being run, with what its activity needs."""

    step: JourneyStep
    journey: Journey
    lead: Lead
    events: EventWriter
    now: datetime
    stage_name: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    _data: dict[str, Any] | None = None

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = data_values(self.journey)
        return self._data


def perform(run: Run) -> Outcome:
    """Do the step's activity; raise `ActivityFailed` when its config or template is wrong."""
    handler = HANDLERS.get(run.step.kind)
    if handler is None:
        raise ActivityFailed(f"`{run.step.kind}` is not an automatic activity")
    return handler(run)


def wait_duration(config: dict[str, Any]) -> timedelta | None:
    """How long a `wait` activity waits, or None when its config says no sensible duration."""
    total = timedelta()
    given = False
    for unit in WAIT_UNITS:
        if unit not in config:
            continue
        amount = config[unit]
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
            return None
        if amount > MAX_WAIT.days * 24 * 60:
            return None
        total += timedelta(**{unit: amount})
        given = True
    return total if given and total <= MAX_WAIT else None


def _email_lead(run: Run) -> Outcome:
    lead = run.lead
    if lead.erased_at is not None:
        return Outcome({"reason": "the lead was erased"}, skipped=True)
    if not lead.email:
        return Outcome({"reason": "the lead has no email address"}, skipped=True)
    if lead.opted_out_at is not None:
        return Outcome({"reason": "the lead has opted out"}, skipped=True)
    try:
        email = lead_email(lead, run.journey, run.data(), run.config, run.step.title)
    except TemplateFailed as error:
        raise ActivityFailed(str(error)) from None
    headers = {
        "List-Unsubscribe": f"<{email.unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    message = queue_email(
        lead.workspace_id,
        lead.email,
        email.subject,
        email.text,
        email.html,
        lead_id=lead.id,
        headers=headers,
    )
    message.id = new_id("msg")  # known now, to name it on the step
    return Outcome({"message_id": message.id, "to": lead.email, "subject": email.subject})


def notify_recipients(to: Any) -> tuple[list[str], list[str]]:
    """The valid addresses in `to` (a list, or text separated by commas), and the others."""
    if isinstance(to, str):
        to = to.split(",")
    if not isinstance(to, list):
        raise ActivityFailed("`to` must be a list of email addresses")
    valid: list[str] = []
    invalid: list[str] = []
    for item in to:
        try:
            address = values.email(item)
        except values.Invalid:
            invalid.append(str(item)[:254])
            continue
        if address and address not in valid:
            valid.append(address)
    return valid, invalid


def _notify_staff(run: Run) -> Outcome:
    valid, invalid = notify_recipients(run.config.get("to") or run.journey.funnel.notify_emails)
    if not valid and not invalid:
        return Outcome({"reason": "no one to notify: the funnel has no notify emails"}, True)
    if not valid:
        raise ActivityFailed(f"no valid address to notify: {', '.join(invalid)}")
    try:
        email = staff_email(run.lead, run.journey, run.data(), run.config, run.stage_name)
    except TemplateFailed as error:
        raise ActivityFailed(str(error)) from None
    sent, deactivated = queue_staff_emails(
        run.lead.workspace_id, valid, email.subject, email.text, email.html, run.lead.id
    )
    if not sent:  # not a failure: the team chose to take these people's access away
        reason = f"no one to notify: deactivated members only ({', '.join(deactivated)})"
        return Outcome({"reason": reason, "deactivated": deactivated}, skipped=True)
    result = {"to": sent, "invalid": invalid, "subject": email.subject}
    return Outcome({**result, "deactivated": deactivated} if deactivated else result)


def _webhook_url(config: dict[str, Any], allow_private: bool = True) -> str:
    """The activity's URL, by the rule the workspace's webhook settings apply."""
    raw = config.get("url")
    if raw is None or raw == "":
        raise ActivityFailed("the webhook has no URL")
    problem = webhook_url_problem(raw, allow_private)
    if problem:
        raise ActivityFailed(f"the webhook URL {problem}")
    return str(raw).strip()


def _webhook(run: Run) -> Outcome:
    url = _webhook_url(run.config)
    step = run.step
    message = OutboxMessage(
        id=new_id("msg"),
        workspace_id=run.lead.workspace_id,
        lead_id=run.lead.id,
        endpoint_id=None,
        channel=Channel.WEBHOOK,
        target=url,
        payload={
            "type": WEBHOOK_ACTIVITY,
            "timestamp": iso(run.now),
            "data": {
                "step": {"id": step.id, "activity_id": step.activity_id, "title": step.title},
                "stage": {"id": step.stage_id, "name": run.stage_name},
                "lead": lead_dict(run.lead),
                "journey": journey_summary(run.journey),
                "data": run.data(),
            },
        },
        next_attempt_at=utcnow(),
        step_id=step.id,  # the step waits for it: `webhook_steps` settles it
    )
    db.session.add(message)
    return Outcome({"message_id": message.id, "url": url}, waiting=True)


def _lead_changed(run: Run, changes: dict[str, Any]) -> None:
    run.events.emit(
        event_types.LEAD_UPDATED,
        {**lead_dict(run.lead), "journey": journey_summary(run.journey), "changes": changes},
        journey_id=run.journey.id,
    )


def _set_status(run: Run) -> Outcome:
    status = _short_text(run.config.get("status"), MAX_STATUS, "status")
    previous = run.lead.status
    if previous != status:
        run.lead.status = status
        _lead_changed(run, {"status": {"from": previous, "to": status}})
    return Outcome({"status": status, "previous": previous})


def _add_tag(run: Run) -> Outcome:
    tag = _short_text(run.config.get("tag"), MAX_TAG, "tag")
    tags = list(run.lead.tags or [])
    if tag in tags:
        return Outcome({"tag": tag, "added": False})
    run.lead.tags = [*tags, tag]  # a new list: JSON columns see reassignment, not mutation
    _lead_changed(run, {"tags": {"added": [tag]}})
    return Outcome({"tag": tag, "added": True})


def _wait(run: Run) -> Outcome:
    duration = wait_duration(run.config)
    if duration is None:
        raise ActivityFailed("the wait has no valid duration (minutes, hours or days)")
    return Outcome({"waited_minutes": int(duration.total_seconds() // 60)})


def _wait_until(run: Run) -> Outcome:
    """Run by the worker only once the timeout has passed (its `due_at`)."""
    facts = Facts(run.lead, run.journey, run.data())
    return Outcome(waits.at_timeout(facts, run.config, run.stage_name))


def _short_text(value: Any, limit: int, name: str) -> str:
    try:
        text = values.text(value, limit)
    except values.Invalid as error:
        raise ActivityFailed(f"the {name} {error}") from None
    if not text:
        raise ActivityFailed(f"no {name} is configured")
    return text


HANDLERS = {
    ActivityKind.EMAIL_LEAD: _email_lead,
    ActivityKind.NOTIFY_STAFF: _notify_staff,
    ActivityKind.WEBHOOK: _webhook,
    ActivityKind.SET_STATUS: _set_status,
    ActivityKind.ADD_TAG: _add_tag,
    ActivityKind.WAIT: _wait,
    ActivityKind.WAIT_UNTIL: _wait_until,
}


def _email_templates(config: dict[str, Any]) -> list[tuple[str, Any]]:
    """The subject and body given, and those of each translation (`translations.de.body`)."""
    found = [(name, config[name]) for name in ("subject", "body") if config.get(name)]
    translations = config.get("translations")
    for language, texts in (translations or {}).items() if isinstance(translations, dict) else ():
        for name in ("subject", "body"):
            if isinstance(texts, dict) and texts.get(name):
                found.append((f"translations.{language}.{name}", texts[name]))
    return found


def validate_activity_config(kind: str, config: Any, allow_private: bool = False) -> list[str]:
    """Every problem with an activity's config, as sentences; empty when it can run. A webhook's
    URL must be a public address unless `allow_private` (`WEBHOOK_ALLOW_PRIVATE`)."""
    if kind not in AUTOMATIC_KINDS and kind not in MANUAL_KINDS:
        return [f"unknown activity kind {kind!r}"]
    if not isinstance(config, dict):
        return ["the config must be an object"]
    errors = []
    if kind in (ActivityKind.EMAIL_LEAD, ActivityKind.NOTIFY_STAFF):
        for name, source in _email_templates(config):
            # A template that cannot render within budget on a made-up lead is refused now,
            # not found out when it fails a real lead's step.
            problem = check_template(source) or sample_budget_problem(source)
            if problem:
                errors.append(f"{name}: {problem}")
    try:
        match kind:
            case ActivityKind.NOTIFY_STAFF:
                invalid = notify_recipients(config.get("to") or [])[1]
                if invalid:
                    errors.append(f"to: not an email address: {', '.join(invalid)}")
            case ActivityKind.WEBHOOK:
                _webhook_url(config, allow_private)
            case ActivityKind.SET_STATUS:
                _short_text(config.get("status"), MAX_STATUS, "status")
            case ActivityKind.ADD_TAG:
                _short_text(config.get("tag"), MAX_TAG, "tag")
            case ActivityKind.STAKEHOLDER_TASK:
                errors.extend(stakeholders.config_problems(config))
            case ActivityKind.WAIT if wait_duration(config) is None:
                errors.append("the wait needs minutes, hours or days (at most ten years)")
            case ActivityKind.WAIT_UNTIL:
                errors += waits.config_problems(config)
    except ActivityFailed as error:
        errors.append(str(error))
    return errors + config_problems(kind, config)
