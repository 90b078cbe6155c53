"""Step 2 of the pipeline: normalize and validate a `LeadInput`, reporting every problem at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl

from leadsite import i18n, values
from leadsite.leads import statuses as lead_statuses
from leadsite.models import UTM_FIELDS, DataPoint, Funnel, Workspace
from leadsite.outbox import http
from leadsite.outbox.event_types import WEBHOOK_EVENTS
from leadsite.registration.catalogue import Catalogue
from leadsite.registration.errors import FieldError, ValidationFailed
from leadsite.registration.inputs import NOTIFICATIONS, LeadInput, LeadRequest
from leadsite.registration.referrals import lead_id_by_code, points, read_code
from leadsite.values import MAX_NAME, MAX_TAG, MAX_TAGS

MAX_JOURNEY_DATA = 100
IDENTIFIERS = ("email", "phone", "unique_id")


@dataclass
class CleanWebhook:
    url: str
    events: list[str]
    secret: str | None


@dataclass
class CleanLead:
    """A `LeadInput` after validation: every value normalized, only what was given set."""

    fields: dict[str, Any]  # Lead column -> value, for the columns that were given
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    journey_data: list[tuple[DataPoint, Any]] = field(default_factory=list)
    redirect_url: str | None = None
    webhook: CleanWebhook | None = None
    must_exist: bool = False
    do_not_reset_opt_out: bool = False
    match_by: str = "email"  # the identifier that decides the match (the funnel's by default)
    required_for_new: tuple[str, ...] = ()
    request: dict[str, Any] | None = None  # title, message_data, request_data, system_message
    notifications: tuple[str, ...] = ()
    share_code: str | None = None  # the referring lead's code (`kid`), when it names one
    # Whether `fields["phone"]` is in an assigned range (`values.number_is_assigned`), worked
    # out from the number `clean` parsed: the event's facts would otherwise parse it again.
    phone_assigned: bool | None = None

    def identifier(self, name: str) -> str | None:
        return self.fields.get(name)


class _Collector:
    """Runs each check, keeps its value, and gathers every failure."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def check(self, name: str, raw: Any, convert: Callable[[Any], Any]) -> Any:
        try:
            return convert(raw)
        except values.Invalid as error:
            message = str(error)
            # Our messages finish "<Field> ..."; a library's are whole sentences already.
            if message[:1].islower():
                message = f"{label(name)} {message}"
            self.errors.append(FieldError(name, message, raw))
            return None

    def fail(self, name: str, message: str, value: Any = None) -> None:
        self.errors.append(FieldError(name, message, value))


def without_identifiers(cleaned: CleanLead, names: set[str]) -> CleanLead:
    """The same registration without these identifiers (another lead holds them)."""
    fields = {key: value for key, value in cleaned.fields.items() if key not in names}
    return replace(cleaned, fields=fields)


def label(name: str) -> str:
    """`journey_data[0].value` -> `Value`, `first_name` -> `First name`."""
    last = re.sub(r"\[\d+\]", "", name.rsplit(".", 1)[-1])
    return last.replace("_", " ").capitalize()


def clean(
    lead_input: LeadInput,
    workspace: Workspace,
    funnel: Funnel,
    allow_private_webhooks: bool,
    catalogue: Catalogue | None = None,
) -> CleanLead:
    """Validate everything; raise `ValidationFailed` listing every problem, or return the result.
    `catalogue`: the statuses and data points already read for the batch (else read here)."""
    catalogue = catalogue or Catalogue(workspace.id)
    c = _Collector()
    given: dict[str, Any] = {}
    given["email"] = c.check("email", lead_input.email, values.email)
    region = c.check("country_code", lead_input.country_code, values.region)
    number = c.check(
        "phone",
        lead_input.phone,
        lambda v: values.parsed_phone(v, region or workspace.default_country),
    )
    given["phone"] = values.e164(number) if number is not None else None
    given["unique_id"] = c.check("unique_id", lead_input.unique_id, lambda v: values.text(v, 200))
    for name in ("first_name", "last_name"):
        given[name] = c.check(name, getattr(lead_input, name), lambda v: values.text(v, MAX_NAME))
    given["address"] = c.check("address", lead_input.address, lambda v: values.text(v, 500))
    given["status"] = c.check(
        "status",
        lead_input.status,
        lambda v: lead_statuses.known(workspace.id, v, catalogue.status_keys),
    )
    given["source"] = c.check("source", lead_input.source, lambda v: values.text(v, 200))
    given["source_url"] = c.check("source_url", lead_input.source_url, values.url)
    given["opt_in"] = c.check("opt_in", lead_input.opt_in, values.boolean)
    given["sms_opt_in"] = c.check("sms_opt_in", lead_input.sms_opt_in, values.boolean)
    given["language"] = c.check("language", lead_input.language, i18n.language)
    utm = {**_utm_from_url(given["source_url"]), **lead_input.utm}
    for name in UTM_FIELDS:
        given[name] = c.check(name, utm.get(name), lambda v: values.text(v, 200))
    if lead_input.consent is not None:
        given["consent"] = lead_input.consent
    given["points"] = c.check("points", lead_input.points, points)
    share_code = read_code(lead_input.referral_code)
    given["referred_by"] = lead_id_by_code(workspace.id, share_code)

    identifier = lead_input.match_by or funnel.identifier
    if identifier not in IDENTIFIERS:
        c.fail("identifier", f"Identifier must be one of: {', '.join(IDENTIFIERS)}", identifier)
    elif not given.get(identifier) and not any(e.field == identifier for e in c.errors):
        c.fail(identifier, f"{label(identifier)} is required: this funnel identifies leads by it")

    result = CleanLead(
        fields={k: v for k, v in given.items() if v is not None},
        tags=_tags(c, lead_input.tags),
        custom_fields=_custom_fields(c, lead_input.custom_fields),
        redirect_url=c.check("redirect_url", lead_input.redirect_url, values.url),
        must_exist=lead_input.must_exist,
        do_not_reset_opt_out=lead_input.do_not_reset_opt_out,
        match_by=identifier,
        required_for_new=lead_input.required_for_new,
        share_code=share_code if given["referred_by"] else None,
        phone_assigned=values.number_is_assigned(number) if number is not None else None,
    )
    result.journey_data = _journey_data(c, lead_input, catalogue)
    if lead_input.request is not None:
        result.request = _request(c, lead_input.request)
    result.notifications = _notifications(c, lead_input.notifications)
    if lead_input.webhook is not None:
        result.webhook = _webhook(c, lead_input, allow_private_webhooks)
    if c.errors:
        raise ValidationFailed(c.errors)
    return result


def _request(c: _Collector, raw: LeadRequest) -> dict[str, Any]:
    title = c.check("request_title", raw.title, lambda v: values.text(v, 200))
    if title is None and not any(e.field == "request_title" for e in c.errors):
        c.fail("request_title", "Request title is required")
    request: dict[str, Any] = {"title": title}
    for name in ("message_data", "request_data"):
        value = getattr(raw, name)
        if value is not None and not isinstance(value, dict):
            c.fail(name, f"{label(name)} must be an object of keys and values")
        request[name] = value if isinstance(value, dict) else {}
    request["system_message"] = c.check(
        "system_message", raw.system_message, lambda v: values.text(v, values.MAX_TEXT)
    )
    return request


def _notifications(c: _Collector, raw: Any) -> tuple[str, ...]:
    if raw is None or raw == "":
        return ()
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        c.fail("notifications", "Notifications must be a comma-separated string")
        return ()
    names = tuple(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    unknown = [name for name in names if name not in NOTIFICATIONS]
    if unknown:
        c.fail(
            "notifications",
            f"Unknown notification(s): {', '.join(unknown)}; known: {', '.join(NOTIFICATIONS)}",
            raw,
        )
        return ()
    return names


def _utm_from_url(source_url: str | None) -> dict[str, str]:
    parsed = values.stored_url(source_url)
    if parsed is None:
        return {}
    query = parse_qsl(parsed.query)
    return {key.lower(): value for key, value in query if key.lower() in UTM_FIELDS}


def _tags(c: _Collector, raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list):
        c.fail("tags", "Tags must be a list of strings or a comma-separated string")
        return []
    tags: list[str] = []
    for index, item in enumerate(items):
        tag = c.check(f"tags[{index}]", item, lambda v: values.text(v, MAX_TAG))
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        c.fail("tags", f"A lead has at most {MAX_TAGS} tags", len(tags))
    return tags


def _custom_fields(c: _Collector, raw: dict[str, Any]) -> dict[str, Any]:
    return c.check("custom_fields", raw, values.custom_fields) or {}


def _journey_data(
    c: _Collector, lead_input: LeadInput, catalogue: Catalogue
) -> list[tuple[DataPoint, Any]]:
    items = lead_input.journey_data
    if len(items) > MAX_JOURNEY_DATA:
        c.fail("journey_data", f"At most {MAX_JOURNEY_DATA} journey data values")
        return []
    names = {str(item.name) for item in items if isinstance(item.name, str)}
    points = catalogue.data_points(names) if names else {}
    result: list[tuple[DataPoint, Any]] = []
    for index, item in enumerate(items):
        if not isinstance(item.name, str) or not item.name.strip():
            c.fail(f"journey_data[{index}].name", "Each journey data item needs a Name")
            continue
        point = points.get(item.name.strip().lower())
        if point is None:
            c.fail(
                f"journey_data[{index}].name",
                f"No data point named '{item.name}' exists in this workspace",
                item.name,
            )
            continue
        value = c.check(
            f"journey_data[{index}].value",
            item.value,
            lambda v, p=point: values.data_point_value(p, v),
        )
        result.append((point, value))
    return result


def _webhook(c: _Collector, lead_input: LeadInput, allow_private: bool) -> CleanWebhook | None:
    raw = lead_input.webhook
    assert raw is not None
    url = c.check("webhook_input.url", raw.url, values.url)
    if raw.url is None or raw.url == "":
        c.fail("webhook_input.url", "WebhookInput needs a Url")
    refused = http.refusal(values.parse_url(url)) if url and not allow_private else None
    if refused:
        c.fail("webhook_input.url", f"Webhook URL must be a public address: {refused}", url)
    events = raw.events if raw.events is not None else list(WEBHOOK_EVENTS)
    if isinstance(events, str):
        events = [events]
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        c.fail("webhook_input.events", "Events must be a list of event names")
        events = []
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        c.fail(
            "webhook_input.events",
            f"Unknown event(s): {', '.join(unknown)}; known: {', '.join(WEBHOOK_EVENTS)}",
        )
    secret = c.check("webhook_input.secret", raw.secret, lambda v: values.text(v, 80))
    return CleanWebhook(url, events, secret) if url else None
