"""Read a KickoffLabs request: its key, its controls, and its data as a `LeadInput`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Request

from leadsite import values
from leadsite.api.body import FORM_TYPES, canonical, read_body, sort_keys
from leadsite.api.lead_input import lead_input_from_body
from leadsite.api.schemas import RegistrationBody
from leadsite.registration import FieldError, LeadInput, RegistrationContext, ValidationFailed
from leadsite.values import Invalid, boolean

# Reserved parameters (by canonical name, leading `_` removed) that are never custom fields:
# KickoffLabs' controller metadata and ids, and the controls this dialect reads itself.
DROPPED = {
    "controller",
    "action",
    "listid",
    "landingpageid",
    "campaignid",
    "kolid",
    "sid",
    "sessionid",
    "rid",
    "skipactions",
}
RENAMED = {"givenname": "first_name", "familyname": "last_name", "ipaddress": "ip"}
# What the signup page's URL may not say: the visitor controls it, the caller's request does not
# (a key, points, a redirect, how to update, the IP), nor any `_` control.
NOT_FROM_URL = {
    "apikey",
    "points",
    "redirecturl",
    "mustexist",
    "donotresetoptout",
    "skipurls",
    "ip",
    "ipaddress",
    "url",
}
CALLING_CODE = re.compile(r"^\+?\d{1,4}$")


@dataclass
class Controls:
    """What the request says about itself rather than the lead."""

    key: str | None = None
    referral_code: Any = None
    points: Any = None
    skip_urls: bool = False


def request_data(request: Request, with_body: bool = True) -> dict[str, Any]:
    """Query parameters and body together (the body wins); JSON or form-encoded."""
    data: dict[str, Any] = {key: request.args.get(key) for key in request.args}
    if with_body:
        data.update(read_body(request))
    return data


def header_key(request: Request) -> str | None:
    """The key from `Authorization: Bearer KEY` or `Authentication: [Bearer] KEY`."""
    for header in ("Authorization", "Authentication"):
        value = request.headers.get(header, "").strip()
        scheme, _, token = value.partition(" ")
        if token.strip() and scheme.lower() in ("bearer", "token"):
            return token.strip()
        if value and not token and header == "Authentication":
            return value
    return None


def split_controls(data: dict[str, Any], request: Request) -> tuple[dict[str, Any], Controls]:
    """Take the key and the controls out of `data`; merge the `__url`'s query underneath (what
    the request sends itself wins); drop reserved parameters. The rest is the lead."""
    controls = Controls()
    url = next((v for k, v in data.items() if canonical(k.lstrip("_")) == "url"), None)
    if isinstance(url, str):
        data = {**_url_params(url), **data}
    lead: dict[str, Any] = {}
    for key, value in data.items():
        name = canonical(str(key).lstrip("_"))
        if name == "apikey":
            controls.key = value if isinstance(value, str) and value.strip() else controls.key
        elif name in ("socialid", "kid"):
            controls.referral_code = controls.referral_code or value
        elif name == "points":
            controls.points = value
        elif name == "skipurls":
            controls.skip_urls = _flag(value)
        elif name in RENAMED:
            lead.setdefault(RENAMED[name], value)
        elif name not in DROPPED:
            lead[key] = value
    controls.key = (controls.key or "").strip() or header_key(request)
    return lead, controls


def _url_params(url: str) -> dict[str, str]:
    """The signup URL's query: custom fields, UTM values, a `kid`; never a control."""
    parts = values.url_parts(url)  # one that does not parse is refused where it is checked
    return {
        key: value
        for key, value in parse_qsl(parts.query if parts is not None else "")
        if not key.startswith("_") and canonical(key) not in NOT_FROM_URL
    }


def _flag(value: Any) -> bool:
    try:
        return bool(boolean(value))
    except Invalid:
        return False


def _prepend_calling_code(fields: dict[str, Any]) -> None:
    """KickoffLabs puts `country_code` before the phone number; a region (`GB`) stays one."""
    code, phone = fields.get("country_code"), fields.get("phone")
    if isinstance(code, int) and not isinstance(code, bool):
        code = fields["country_code"] = str(code)  # a number that is no calling code: a text
    if not isinstance(code, str) or not CALLING_CODE.match(code.strip()):
        return
    fields.pop("country_code")
    if isinstance(phone, int) and not isinstance(phone, bool):
        phone = str(phone)
    if isinstance(phone, str) and phone.strip() and not phone.strip().startswith("+"):
        fields["phone"] = f"+{code.strip().lstrip('+')} {phone.strip()}"


def lead_input(
    lead: dict[str, Any], controls: Controls, request: Request
) -> tuple[LeadInput, RegistrationContext]:
    """The `LeadInput` of the lead's parameters: validated for shape here, for everything else
    by the pipeline. Raises `ValidationFailed` or pydantic's `ValidationError`."""
    fields = sort_keys(lead, from_form=request.mimetype in FORM_TYPES)
    if not fields.get("email") and not fields.get("phone"):
        raise ValidationFailed(
            [FieldError("email", "Send email or phone_number: at least one is required")]
        )
    _prepend_calling_code(fields)
    data, context = lead_input_from_body(RegistrationBody.model_validate(fields), request)
    data.points = controls.points
    data.referral_code = controls.referral_code or data.referral_code
    return data, context
