"""The emails journeys send: staff-written text rendered in Jinja's sandbox, inside our templates.

Staff write an `email_lead` activity's subject and body with `{{ placeholders }}`; they are
rendered by `SandboxedEnvironment` with plain values only (no model objects), so a template can
read the lead's fields and data points and nothing else. The result is then put in
`templates/emails/lead_activity.txt` and `.html`, which add the journey link and the unsubscribe
link (the HTML is escaped by Flask's autoescaping).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from leadsite.models import UTM_FIELDS, Funnel, Journey, Lead
from leadsite.representations import journey_url

MAX_TEMPLATE_LENGTH = 20_000
MAX_RENDERED_LENGTH = 100_000
MAX_SUBJECT_LENGTH = 200
MAX_EXPONENT = 100
UNSUBSCRIBE_SALT = "leadsite.unsubscribe"
DEFAULT_BODY = "Hello {{ lead.first_name or 'there' }},\n\nThank you for signing up."


class TemplateFailed(Exception):
    """A staff-written template that does not parse or render; the message says why."""


class _Sandbox(SandboxedEnvironment):
    """The sandbox, also refusing the arithmetic that builds huge strings or numbers."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError("that number would be too large")
            return operator.pow(left, right)
        for sequence, times in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(times, int)
                and len(sequence) * times > MAX_RENDERED_LENGTH
            ):
                raise SecurityError("that text would be too long")
        return operator.mul(left, right)


_sandbox = _Sandbox(autoescape=False, keep_trailing_newline=False)


def check_template(source: Any) -> str | None:
    """Why a staff-written template cannot be used, or None when it parses."""
    if not isinstance(source, str):
        return "must be text"
    if len(source) > MAX_TEMPLATE_LENGTH:
        return f"is longer than {MAX_TEMPLATE_LENGTH} characters"
    try:
        _sandbox.parse(source)
    except TemplateError as error:
        return f"does not parse: {error.message or error}"
    return None


def render_text(source: str, context: dict[str, Any]) -> str:
    """Render a staff-written template in the sandbox; raise `TemplateFailed` with the reason."""
    problem = check_template(source)
    if problem:
        raise TemplateFailed(f"the template {problem}")
    try:
        chunks, length = [], 0
        for chunk in _sandbox.from_string(source).generate(context):
            length += len(chunk)
            if length > MAX_RENDERED_LENGTH:
                raise TemplateFailed(f"the text is longer than {MAX_RENDERED_LENGTH} characters")
            chunks.append(chunk)
    except (TemplateError, ArithmeticError, TypeError, ValueError) as error:
        raise TemplateFailed(f"the template failed: {error}") from None
    return "".join(chunks)


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
    """The `email_lead` email: the activity's subject and body, with the journey link."""
    context = template_context(lead, journey, data)
    subject = one_line(render_text(str(config.get("subject") or title), context))
    body = render_text(config.get("body") or DEFAULT_BODY, context).strip()
    links = {"journey_url": context["journey_url"], "unsubscribe_url": unsubscribe_url(lead)}
    paragraphs = [part.strip().split("\n") for part in body.split("\n\n") if part.strip()]
    return Email(
        subject=subject or title,
        text=render_template("emails/lead_activity.txt", body=body, **links),
        html=render_template(
            "emails/lead_activity.html", subject=subject, paragraphs=paragraphs, **links
        ),
        unsubscribe_url=links["unsubscribe_url"],
    )


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
