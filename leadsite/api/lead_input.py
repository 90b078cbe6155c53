"""Turn a validated registration body into the pipeline's `LeadInput` and context."""

from __future__ import annotations

from typing import Any

from flask import Request

from leadsite import values
from leadsite.api.body import canonical
from leadsite.api.schemas import RegistrationBody
from leadsite.registration import (
    FieldError,
    JourneyDataInput,
    LeadInput,
    RegistrationContext,
    ValidationFailed,
    WebhookInput,
)
from leadsite.values import Invalid, boolean


def _flag(errors: list[FieldError], name: str, value: Any) -> bool:
    try:
        return bool(boolean(value))
    except Invalid as error:
        errors.append(FieldError(name, f"{name} {error}", value))
        return False


def _journey_data(errors: list[FieldError], raw: Any) -> list[JourneyDataInput]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        return [JourneyDataInput(name, value) for name, value in raw.items()]
    if not isinstance(raw, list):
        message = "JourneyData must be a list of {Name, Value}"
        errors.append(FieldError("journey_data", message, raw))
        return []
    items = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            errors.append(
                FieldError(f"journey_data[{index}]", "Each item must be {Name, Value}", item)
            )
            continue
        keys = {canonical(str(key)): value for key, value in item.items()}
        items.append(JourneyDataInput(keys.get("name"), keys.get("value")))
    return items


def lead_input_from_body(
    body: RegistrationBody, request: Request
) -> tuple[LeadInput, RegistrationContext]:
    errors: list[FieldError] = []
    first, last = body.first_name, body.last_name
    if body.name and not (first or last):
        first, _, last = body.name.strip().partition(" ")
    webhook = None
    if body.webhook_input is not None:
        hook = body.webhook_input
        webhook = WebhookInput(url=hook.url, events=hook.events, secret=hook.secret)
    ip = body.ip or request.remote_addr
    if body.ip:
        try:
            ip = values.ip_address(body.ip)
        except values.Invalid as error:
            errors.append(FieldError("ip", f"Ip {error}", body.ip))
            ip = request.remote_addr
    lead_input = LeadInput(
        email=body.email,
        phone=body.phone,
        first_name=first,
        last_name=last or None,
        address=body.address,
        unique_id=body.unique_id,
        status=body.status,
        source=body.source,
        source_url=body.source_url,
        country_code=body.country_code,
        tags=body.tags,
        custom_fields=dict(body.custom_fields),
        utm=dict(body.utm or {}),
        opt_in=body.opt_in,
        sms_opt_in=body.sms_opt_in,
        consent=body.consent,
        redirect_url=body.redirect_url,
        journey_data=_journey_data(errors, body.journey_data),
        webhook=webhook,
        must_exist=_flag(errors, "must_exist", body.must_exist),
        do_not_reset_opt_out=_flag(errors, "do_not_reset_opt_out", body.do_not_reset_opt_out),
        referral_code=body.referral_code,
        language=body.language,
    )
    if errors:
        raise ValidationFailed(errors)
    context = RegistrationContext(
        ip=ip,
        user_agent=request.user_agent.string or None,
        referrer=body.referrer or request.referrer,
    )
    return lead_input, context
