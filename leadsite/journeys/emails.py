"""The emails journeys send: staff-written text rendered in Jinja's sandbox, inside our templates.

Staff write an `email_lead` activity's subject and body with `{{ placeholders }}`; they are
rendered in Jinja's sandbox under a budget of work, time and size (`journeys.sandbox`) with
plain values only (no model objects), so a template can read the lead's fields and data points
and nothing else, and cannot hold the worker for long. The worker renders a step's texts before
its write transaction (`journeys.prerender`), so no lock is held while staff text renders. The
result is then put in `templates/emails/lead_activity.txt` and `.html`, which add the journey
link and the unsubscribe link (the HTML is escaped by Flask's autoescaping).

A lead's emails speak the language they registered in: ours through Flask-Babel, the staff's
through the activity's `config["translations"][lang]` (`subject`, `body`) when there is one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import TemplateError

from leadsite import i18n
from leadsite.extensions import db
from leadsite.journeys import sandbox
from leadsite.journeys.template_check import reads_journey_url
from leadsite.models import UTM_FIELDS, ActivityKind, Funnel, Journey, Lead, LeadStatus
from leadsite.representations import journey_url

MAX_TEMPLATE_LENGTH = 20_000
MAX_RENDERED_LENGTH = sandbox.MAX_LENGTH
MAX_SUBJECT_LENGTH = 200
UNSUBSCRIBE_SALT = "leadsite.unsubscribe"


class TemplateFailed(Exception):
    """A staff-written template that does not parse or render; the message says why."""


def check_template(source: Any) -> str | None:
    """Why a staff-written template cannot be used, or None when it compiles."""
    if not isinstance(source, str):
        return "must be text"
    if len(source) > MAX_TEMPLATE_LENGTH:
        return f"is longer than {MAX_TEMPLATE_LENGTH} characters"
    try:
        sandbox.compile_template(source)
    except TemplateError as error:
        return f"does not parse: {error.message or error}"
    return None


def render_text(source: str, context: dict[str, Any]) -> str:
    """Render a staff-written template in the budgeted sandbox; raise `TemplateFailed` with the
    reason. Inside `prerendered()`, a text rendered before with the same context is reused."""
    cache = _prerendered.get()
    key = (source, _context_key(context)) if cache is not None else None
    if cache is not None and key in cache:
        outcome = cache[key]
        if isinstance(outcome, TemplateFailed):
            raise outcome
        return outcome
    try:
        outcome = _render(source, context)
    except TemplateFailed as error:
        if cache is not None:
            cache[key] = error
        raise
    if cache is not None:
        cache[key] = outcome
    return outcome


def _render(source: str, context: dict[str, Any]) -> str:
    problem = check_template(source)
    if problem:
        raise TemplateFailed(f"the template {problem}")
    try:
        return sandbox.render(source, context)
    except sandbox.BudgetExceeded as error:
        raise TemplateFailed(f"the template is over its budget: {error}") from None
    except RecursionError:
        raise TemplateFailed("the template calls itself without end") from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
        raise TemplateFailed(f"the template failed: {error}") from None


_prerendered: ContextVar[dict[tuple[str, str], str | TemplateFailed] | None] = ContextVar(
    "leadsite_prerendered", default=None
)


def _context_key(context: dict[str, Any]) -> str:
    return json.dumps(context, sort_keys=True, default=str)


@contextmanager
def prerendered() -> Iterator[None]:
    """Within the block, `render_text` remembers what it rendered: render a step's texts with
    no transaction open (`journeys.prerender`), then run the step under the write lock, where
    the same texts with the same context are taken from memory instead of rendered again."""
    token = _prerendered.set({})
    try:
        yield
    finally:
        _prerendered.reset(token)


def greeting_body(text: str) -> str:
    """A template greeting the lead by first name in the language being spoken, then `text`."""
    hello = _("Hello %(name)s,", name="{{ lead.first_name }}")
    hello_anyone = _("Hello,")  # not inside the f-string: pybabel does not look into one
    return f"{{% if lead.first_name %}}{hello}{{% else %}}{hello_anyone}{{% endif %}}\n\n{text}"


def default_body() -> str:
    """The body of an `email_lead` step whose activity has none."""
    return greeting_body(_("Thank you for signing up."))


def localized(config: dict[str, Any], language: str) -> dict[str, Any]:
    """An `email_lead` config with its subject and body in `language` where staff wrote them."""
    texts = i18n.staff_texts(config, language)
    mine = {key: i18n.staff_text(texts, key, None) for key in ("subject", "body")}
    return {**config, **{key: text for key, text in mine.items() if text}}


def template_sources(kind: str, config: dict[str, Any], title: str) -> list[str]:
    """The staff-written texts an `email_lead` or `notify_staff` step renders."""
    if kind == ActivityKind.EMAIL_LEAD:
        return [str(config.get("subject") or title), config.get("body") or default_body()]
    if kind == ActivityKind.NOTIFY_STAFF and config.get("subject"):
        return [str(config["subject"])]
    return []


def one_line(text: str, limit: int = MAX_SUBJECT_LENGTH) -> str:
    """A header value: one line (no CR or LF to inject headers with), at most `limit` long."""
    return " ".join(text.split())[:limit]


def template_context(lead: Lead, journey: Journey, data: dict[str, Any]) -> dict[str, Any]:
    """What a staff-written template can read: plain values, never the models themselves."""
    return {
        "lead": {
            "first_name": lead.first_name or "",
            "last_name": lead.last_name or "",
            "name": lead.name,
            "email": lead.email or "",
            "phone": lead.phone or "",
            "status": lead.status,
            "tags": list(lead.tags or []),
            "custom": dict(lead.custom_fields or {}),
            "source": lead.source or "",
            **{name: getattr(lead, name) or "" for name in UTM_FIELDS},
        },
        "data": dict(data),
        "journey_url": journey_url(journey),
        "funnel": journey.funnel.name,
    }


def sample_context() -> dict[str, Any]:
    """What a template reads for a made-up lead: templates are tried on it when saved."""
    return {
        "lead": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "phone": "+18005550175",
            "status": "new",
            "tags": ["newsletter"],
            "custom": {},
            "source": "website",
            **{name: "" for name in UTM_FIELDS},
        },
        "data": {},
        "journey_url": "https://leadsite.example/j/sample",
        "funnel": "Sample funnel",
    }


_sample_answers: dict[str, str | None] = {}
MAX_SAMPLE_ANSWERS = 256


def sample_budget_problem(source: str) -> str | None:
    """Why `source` cannot be rendered within its budget on the sample lead, or None; other
    failures are left to a real lead's data to decide.

    Remembered: a save tries its templates before it takes the write lock, and its validation,
    under the lock, finds the answer here. Running out of time is not remembered: the
    machine's load has a part in it."""
    if source in _sample_answers:
        return _sample_answers[source]
    problem = None
    try:
        sandbox.render(source, sample_context())
    except sandbox.OutOfTime as error:
        return f"cannot be rendered within its budget: {error}"
    except sandbox.BudgetExceeded as error:
        problem = f"cannot be rendered within its budget: {error}"
    except RecursionError:
        problem = "cannot be rendered: it calls itself without end"
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError):
        pass
    if len(_sample_answers) >= MAX_SAMPLE_ANSWERS:
        _sample_answers.clear()
    _sample_answers[source] = problem
    return problem


def unsubscribe_token(lead: Lead) -> str:
    """A signed token naming the lead, for `/unsubscribe/<token>`; it does not expire."""
    return URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT).dumps(lead.id)


def lead_id_from_unsubscribe_token(token: str) -> str | None:
    """The lead id an unsubscribe token names, or None when it was not made by us."""
    try:
        value = URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def unsubscribe_url(lead: Lead) -> str:
    return f"{current_app.config['BASE_URL']}/unsubscribe/{unsubscribe_token(lead)}"


@dataclass
class Email:
    subject: str
    text: str
    html: str
    unsubscribe_url: str = ""


def lead_email(
    lead: Lead, journey: Journey, data: dict[str, Any], config: dict[str, Any], title: str
) -> Email:
    """The `email_lead` email in the lead's language: the activity's subject and body (or their
    translation), with the journey link (unless the body writes `journey_url` itself: the link
    is not given twice)."""
    context = template_context(lead, journey, data)
    language = i18n.lead_language(lead)
    with force_locale(language):
        return compose_lead_email(
            localized(config, language), title, context, unsubscribe_url(lead)
        )


def compose_lead_email(
    config: dict[str, Any], title: str, context: dict[str, Any], unsubscribe: str
) -> Email:
    """The `email_lead` email rendered on `context` (a lead's, or `sample_context()`)."""
    subject = one_line(render_text(str(config.get("subject") or title), context))
    source = config.get("body") or default_body()
    body = render_text(source, context).strip()
    links = {
        "journey_url": context["journey_url"],
        "unsubscribe_url": unsubscribe,
        "add_journey_link": not reads_journey_url(source),
    }
    paragraphs = [part.strip().split("\n") for part in body.split("\n\n") if part.strip()]
    return Email(
        subject=subject or title,
        text=render_template("emails/lead_activity.txt", body=body, **links),
        html=render_template(
            "emails/lead_activity.html", subject=subject, paragraphs=paragraphs, **links
        ),
        unsubscribe_url=links["unsubscribe_url"],
    )


def status_name(lead: Lead) -> str:
    """The name staff see for the lead's status ("New"), not the key it is stored as ("new"):
    staff emails said "Status: new" where every screen said "New", or a renamed status."""
    name = db.session.scalar(
        db.select(LeadStatus.name).filter_by(workspace_id=lead.workspace_id, key=lead.status)
    )
    return name or lead.status


def staff_email(
    lead: Lead, journey: Journey, data: dict[str, Any], config: dict[str, Any], stage_name: str
) -> Email:
    """The `notify_staff` email: who the lead is, what they told us, and where to see them."""
    funnel: Funnel = journey.funnel
    subject = f"New lead in {funnel.name}: {lead.display_name}"
    if config.get("subject"):
        subject = render_text(str(config["subject"]), template_context(lead, journey, data))
    context = {
        "lead": lead,
        "status_name": status_name(lead),
        "funnel": funnel,
        "stage_name": stage_name,
        "data": data,
        "utm": {name: getattr(lead, name) for name in UTM_FIELDS if getattr(lead, name)},
        "lead_url": f"{current_app.config['BASE_URL']}/p/leads/{lead.id}",
        "note": config.get("note") or "",
    }
    return Email(
        subject=one_line(subject) or f"New lead in {funnel.name}",
        text=render_template("emails/staff_notification.txt", **context),
        html=render_template("emails/staff_notification.html", **context),
    )
