"""Checks and conversions for single values: emails, phones, URLs, booleans, data point values."""

from __future__ import annotations

import ipaddress
import math
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadsite.models import DataPoint, DataPointType

TRUE_WORDS = {"true", "1", "yes", "y", "on", "checked"}
FALSE_WORDS = {"false", "0", "no", "n", "off", ""}
DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})
MAX_URL = 2000
MAX_NAME = 100
MAX_TAGS = 20
MAX_TAG = 50
MAX_TEXT = 2000


class Invalid(ValueError):
    """A value that cannot be used; the message is shown to whoever sent it."""


def text(value: Any, max_length: int) -> str | None:
    """A trimmed string, or None when empty; numbers are accepted and written out."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid("must be a string")
    result = str(value).strip()
    if len(result) > max_length:
        raise Invalid(f"must be at most {max_length} characters")
    return result or None


def email(value: Any) -> str | None:
    """A syntactically valid address (no DNS lookup), lower-cased: leads are matched by it."""
    raw = text(value, 254)
    if raw is None:
        return None
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as error:
        raise Invalid(str(error)) from None
    return result.normalized.lower()


def phone(value: Any, region: str | None) -> str | None:
    """The number in E.164; `region` reads numbers written without a country code.

    Any number phonenumbers calls *possible* (a length its country's plan allows) is accepted:
    documents and test systems use numbers that are possible but not assigned (the 555 ones),
    and refusing them would lose leads. `phone_is_assigned` tells the two apart."""
    raw = text(value, 40)
    if raw is None:
        return None
    try:
        number = phonenumbers.parse(raw.translate(DASHES), (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise Invalid("is not a phone number (add the country code, e.g. +44)") from None
    if not phonenumbers.is_possible_number(number):
        raise Invalid("is not a possible phone number (too short or too long for its country)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_is_assigned(e164: str) -> bool:
    """Whether an E.164 number (from `phone`) lies in a range its country has assigned."""
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False


def region(value: Any) -> str | None:
    raw = text(value, 2)
    if raw is None:
        return None
    if raw.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid("must be a two-letter country code such as US or FR")
    return raw.upper()


def url(value: Any) -> str | None:
    """An absolute http(s) URL."""
    raw = text(value, MAX_URL)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("must be an absolute http:// or https:// URL")
    return raw


def is_private_host(host: str) -> bool:
    """True for localhost and literal loopback, private, link-local or reserved addresses."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global


def boolean(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise Invalid("must be true or false")


def number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise Invalid("must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise Invalid("must be a number") from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid("must be a number")
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def data_point_value(point: DataPoint, value: Any) -> Any:
    """Check `value` against the data point's type; return it in its stored form."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match point.type:
        case DataPointType.NUMBER:
            return number(value)
        case DataPointType.BOOLEAN:
            return boolean(value)
        case DataPointType.DATE:
            try:
                return date.fromisoformat(text(value, 10) or "").isoformat()
            except ValueError:
                raise Invalid("must be a date written YYYY-MM-DD") from None
        case DataPointType.CHOICE:
            chosen = text(value, MAX_TEXT)
            for choice in point.choices:
                if choice.lower() == (chosen or "").lower():
                    return choice
            raise Invalid(f"must be one of: {', '.join(point.choices)}")
        case DataPointType.EMAIL:
            return email(value)
        case DataPointType.URL:
            return url(value)
        case _:
            return text(value, MAX_TEXT)
