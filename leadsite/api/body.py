"""Read a registration body: JSON or form-encoded, keys matched ignoring case, `_` and `-`."""

from __future__ import annotations

import re
from typing import Any

from flask import Request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from leadsite.models import UTM_FIELDS
from leadsite.values import parse_json, unstorable

JSON_TYPES = ("application/json",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_SEPARATORS = re.compile(r"[\s_\-]+")

# Canonical key (lower case, no separators) -> field of the registration body.
ALIASES = {
    "email": "email",
    "emailaddress": "email",
    "phone": "phone",
    "phonenumber": "phone",
    "firstname": "first_name",
    "lastname": "last_name",
    "name": "name",
    "fullname": "name",
    "address": "address",
    "uniqueid": "unique_id",
    "uid": "unique_id",
    "status": "status",
    "source": "source",
    "url": "source_url",
    "sourceurl": "source_url",
    "referrer": "referrer",
    "ip": "ip",
    "tags": "tags",
    "metadata": "metadata",
    "customfields": "metadata",
    "optin": "opt_in",
    "smsoptin": "sms_opt_in",
    "countrycode": "country_code",
    "mustexist": "must_exist",
    "donotresetoptout": "do_not_reset_opt_out",
    "redirecturl": "redirect_url",
    "journeydata": "journey_data",
    "webhookinput": "webhook_input",
    "consent": "consent",
    "language": "language",  # the lead's (`leadsite.i18n`): their journey page and emails
    # The share code of the lead who referred this one (KickoffLabs' names for it, too).
    "referralcode": "referral_code",
    "socialid": "referral_code",
    "kid": "referral_code",
}
UTM_KEYS = {name.replace("_", ""): name for name in UTM_FIELDS}
# Form fields that carry structured values as JSON text.
STRUCTURED = {"journey_data", "webhook_input", "metadata", "consent"}


class InvalidJSON(BadRequest):
    description = "The body is not valid JSON"


def refuse_unstorable_text(value: Any) -> None:
    """Refuse what no database column can hold: NUL characters and lone surrogates."""
    problem = unstorable(value)
    if problem:
        raise InvalidJSON(problem)


def canonical(key: str) -> str:
    return _SEPARATORS.sub("", key.lower())


def read_body(request: Request) -> dict[str, Any]:
    """The request body as a dict, JSON or form-encoded; an empty body is `{}`. A JSON body of
    blanks alone is not JSON, and is refused as such: a PATCH of `" "` changed nothing and
    answered 200, where the document says the body is a JSON object (schemathesis)."""
    mimetype = request.mimetype
    if mimetype in JSON_TYPES or mimetype.endswith("+json"):
        raw = request.get_data(cache=True)
        if not raw:
            return {}
        try:
            body = parse_json(raw)
        except ValueError:
            raise InvalidJSON() from None
        if not isinstance(body, dict):
            raise InvalidJSON("The body must be a JSON object")
        refuse_unstorable_text(body)
        return body
    if mimetype in FORM_TYPES:
        form: dict[str, Any] = {}
        for key in request.form:
            items = request.form.getlist(key)
            form[key] = items if len(items) > 1 else items[0]
        refuse_unstorable_text(form)
        return form
    if not request.get_data(cache=True).strip():
        return {}
    raise UnsupportedMediaType("Send the body as application/json or form-encoded")


def sort_keys(body: dict[str, Any], from_form: bool = False) -> dict[str, Any]:
    """Map every key to its field: known fields by alias, `utm_*` to UTM, `_*` controls by
    alias (others dropped), anything else to custom fields (lower-cased)."""
    fields: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    utm: dict[str, Any] = {}
    for key, value in body.items():
        key = str(key)
        is_control = key.startswith("_")
        name = canonical(key.lstrip("_"))
        if name in ALIASES:
            field = ALIASES[name]
            if from_form and field in STRUCTURED and isinstance(value, str):
                value = _json_text(value)
            if field == "webhook_input" and isinstance(value, dict):
                value = {canonical(str(k)): v for k, v in value.items()}
            fields[field] = value
        elif name in UTM_KEYS:
            utm[UTM_KEYS[name]] = value
        elif name == "utm" and isinstance(value, dict):
            # `{"utm": {"source": ...}}` as well as `{"utm": {"utm_source": ...}}`; a key that
            # is no UTM field stays with the others, a custom field `utm`.
            other = {}
            for k, v in value.items():
                field = UTM_KEYS.get(canonical(str(k))) or UTM_KEYS.get("utm" + canonical(str(k)))
                if field:
                    utm[field] = v
                else:
                    other[str(k)] = v
            if other:
                custom[key.lower()] = other
        elif not is_control:
            custom[key.lower()] = value
    metadata = fields.pop("metadata", None)
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            if canonical(str(key)) in UTM_KEYS:
                utm.setdefault(UTM_KEYS[canonical(str(key))], value)
            else:
                custom[str(key).lower()] = value
    elif metadata is not None:
        fields["metadata"] = metadata  # left for the schema to refuse
    fields["custom_fields"] = custom
    fields["utm"] = utm
    return fields


def _json_text(value: str) -> Any:
    try:
        parsed = parse_json(value)
    except ValueError:
        return value
    refuse_unstorable_text(parsed)
    return parsed
