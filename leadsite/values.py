"""Checks and conversions for single values: emails, phones, URLs, booleans, data point values."""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from leadsite.models import DataPoint, DataPointType, in_zone

TRUE_WORDS = {"true", "1", "yes", "y", "on", "checked"}
FALSE_WORDS = {"false", "0", "no", "n", "off", ""}
DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})
MAX_URL = 2000
MAX_NAME = 100
MAX_TAGS = 20
MAX_TAG = 50
MAX_TEXT = 2000
MAX_CUSTOM_FIELDS_BYTES = 16 * 1024
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
HOST_NAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_.])?$")
# email-validator's reason (every word found in its message, first match wins) -> ours.
EMAIL_PROBLEMS = [
    (("must have an @-sign",), _l("needs an @ sign.")),
    (("SPACE",), _l("cannot contain spaces.")),
    (("something", "before the @-sign"), _l("needs a name before the @ sign.")),
    (("something", "after the @-sign"), _l("needs a domain after the @ sign.")),
    (("period", "after the @-sign"), _l("needs a domain after the @ sign.")),
    (("period",), _l("has a dot where an address cannot have one.")),
    (("too long",), _l("is too long.")),
    (("invalid character",), _l("contains a character that email addresses cannot have.")),
    (("not allowed",), _l("contains a character that email addresses cannot have.")),
]


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
    if "\x00" in result:  # a form's `%00` or raw byte: PostgreSQL's text refuses it (a 500)
        raise Invalid("must not contain NUL characters")
    if not result.isascii() and LONE_SURROGATE.search(result):  # no UTF-8 encodes one
        raise Invalid("must be valid Unicode text")
    return result or None


def email(value: Any) -> str | None:
    """A syntactically valid address (no DNS lookup), lower-cased: leads are matched by it."""
    raw = text(value, 254)
    if raw is None:
        return None
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as error:
        raise Invalid(_email_problem(str(error))) from None
    return result.normalized.lower()


def _email_problem(message: str) -> str:
    """email-validator's reason, in the words of a form: what is wrong, then what to type.
    Its own sentences name code points (`SPACE`) and "@-sign"s, and do not say what to do."""
    problem = next(
        (ours for words, ours in EMAIL_PROBLEMS if all(word in message for word in words)),
        _l("is not a complete email address."),
    )
    # Not inside the f-string: pybabel does not look into one, and the hint went untranslated.
    hint = _("Enter an address like name@example.com.")
    return f"{problem} {hint}"


def phone(value: Any, region: str | None) -> str | None:
    """The number in E.164; `region` reads numbers written without a country code.

    Any number phonenumbers calls *possible* (a length its country's plan allows) is accepted:
    documents and test systems use numbers that are possible but not assigned (the 555 ones),
    and refusing them would lose leads. `phone_is_assigned` tells the two apart."""
    number = parsed_phone(value, region)
    return None if number is None else e164(number)


def parsed_phone(value: Any, region: str | None) -> phonenumbers.PhoneNumber | None:
    """The number `phone` accepts, parsed: for a caller that also asks `number_is_assigned`
    of it, which parsing its E.164 text again would cost as much as this (a registration with
    a phone did both: `clean`, then the event's facts)."""
    raw = text(value, 40)
    if raw is None:
        return None
    region = (region or "").upper() or None
    try:
        number = phonenumbers.parse(raw.translate(DASHES), region)
    except phonenumbers.NumberParseException:
        problem = _("is not a phone number.")
        raise Invalid(f"{problem} {phone_hint(region)}") from None
    if not phonenumbers.is_possible_number(number):
        problem = _("has too few or too many digits.")
        country = phonenumbers.region_code_for_country_code(number.country_code)
        raise Invalid(f"{problem} {phone_hint(country)}")
    return number


def e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_hint(region: str | None) -> str:
    """ "Enter a phone number like +1 201-555-0123": the region's own example, written the
    international way, so that it shows the country code a number from elsewhere needs."""
    example = phonenumbers.example_number(region) if region else None
    if example is None:
        return _("Enter a phone number with its country code, like +44 20 7946 0958.")
    shown = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return _("Enter a phone number like %(example)s.", example=shown)


def phone_is_assigned(e164: str) -> bool:
    """Whether an E.164 number (from `phone`) lies in a range its country has assigned."""
    try:
        return number_is_assigned(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return False


def number_is_assigned(number: phonenumbers.PhoneNumber) -> bool:
    """`phone_is_assigned` of a number `parsed_phone` gave, without writing and parsing it
    again: its E.164 text parses back to the same country code and national number
    (leading zeros included), which is all that the check reads."""
    return phonenumbers.is_valid_number(number)


def region(value: Any) -> str | None:
    raw = text(value, 2)
    if raw is None:
        return None
    if raw.upper() not in phonenumbers.SUPPORTED_REGIONS:
        raise Invalid("must be a two-letter country code such as US or FR")
    return raw.upper()


@dataclass(frozen=True)
class Url:
    """An absolute http(s) URL taken apart. `host` is what a resolver is given: lower-case ASCII
    (IDNA, so full-width dots and Unicode digits are already plain), an IPv6 address unbracketed."""

    text: str
    scheme: str
    host: str
    port: int | None
    path: str
    query: str

    @property
    def effective_port(self) -> int:
        return self.port or (443 if self.scheme == "https" else 80)

    @property
    def netloc(self) -> str:
        """`host[:port]`, as a Host header and a web origin write it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.netloc}"


def parse_url(raw: str) -> Url:
    """The one URL parser: every door checks URLs with it and every stored URL is read with it,
    since `urlsplit` and `.port` raise on `http://[x/` or `:99999`. `Invalid` says what is wrong."""
    if CONTROL_CHARACTERS.search(raw):
        raise Invalid("must not contain line breaks or control characters")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as error:
        raise Invalid(_split_problem(str(error))) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("must be an absolute http:// or https:// URL")
    if port == 0:
        raise Invalid("has a port that is not a number from 1 to 65535")
    host = _host(parts.hostname, bracketed=parts.netloc.rpartition("@")[2].startswith("["))
    return Url(raw, parts.scheme, host, port, parts.path, parts.query)


def _split_problem(message: str) -> str:
    if "Port" in message:
        return "has a port that is not a number from 1 to 65535"
    if "IPv6" in message or "bracketed" in message:
        return "has a [ without its ] or an invalid IPv6 address"
    return "has characters that are not allowed in a host name"


def _host(hostname: str, bracketed: bool) -> str:
    if bracketed:
        try:
            return ipaddress.IPv6Address(hostname).compressed
        except ValueError:
            raise Invalid("has an invalid IPv6 address") from None
    try:
        # The codec `socket.getaddrinfo` applies to a str host: what we check is what is resolved.
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Invalid("has a host name that is not valid") from None
    if not HOST_NAME.match(host):
        raise Invalid("has a host name that is not valid")
    return host


def url(value: Any) -> str | None:
    """An absolute http(s) URL, as given (trimmed)."""
    raw = text(value, MAX_URL)
    if raw is None:
        return None
    parse_url(raw)
    return raw


def url_parts(raw: str) -> SplitResult | None:
    """Any URL (relative, or of any scheme) split, or None where `urlsplit` or `.port` would
    raise, or where it would silently drop a line break: for headers and form fields that carry
    a URL of this site, and for settings."""
    if CONTROL_CHARACTERS.search(raw):
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 -- raises on a port out of range
    except ValueError:
        return None
    return parts


def local_path(raw: str | None) -> str | None:
    """`raw` when it is a path on this site (`/p/leads?x=1`), for a `next` to follow; None for
    another site (`//evil`, `/\\evil`, `https://...`) or anything that does not parse."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return None
    parts = url_parts(raw)
    if parts is None or parts.scheme or parts.netloc:
        return None
    return raw


def stored_url(raw: str | None) -> Url | None:
    """A URL read from the database, or None when it is empty or does not parse: a value stored
    before a check existed (or written around it) must not make a page fail."""
    if not raw or not isinstance(raw, str):
        return None
    try:
        return parse_url(raw)
    except Invalid:
        return None


def stored_url_text(raw: str | None) -> str | None:
    """A stored URL fit to link or redirect to, else None."""
    parsed = stored_url(raw)
    return parsed.text if parsed else None


def ip_address(value: Any) -> str | None:
    """An IPv4 or IPv6 address, written canonically and without a zone (`fe80::1%eth0`): so
    it fits the 45 characters a column holds, however it was written."""
    raw = text(value, MAX_TEXT)
    if raw is None:
        return None
    try:
        address = ipaddress.ip_address(raw.split("%", 1)[0])
    except ValueError:
        raise Invalid("must be an IPv4 or IPv6 address") from None
    return address.compressed


def clipped(value: Any, limit: int) -> str | None:
    """Text recorded as it came (a header, a fact about the request), cut to its column's size."""
    if not isinstance(value, str) or not value.strip():
        return None
    # `flask run` passes a NUL in a header on (gunicorn refuses it); PostgreSQL's text would not.
    return value.strip().replace("\x00", "\ufffd")[:limit]


def custom_fields(value: Any) -> dict[str, Any]:
    """Custom fields with lower-cased names, at most 16 KB written as JSON; None is none."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid("must be an object of names to values")
    fields = {str(key).lower(): item for key, item in value.items()}
    size = len(json.dumps(fields, default=str).encode())
    if size > MAX_CUSTOM_FIELDS_BYTES:
        raise Invalid(f"must total at most 16 KB (got {size} bytes)")
    return fields


def timestamp(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime (no offset: UTC); one the offset
    would push past the calendar's edges is held at them, so `0001-01-01` and `9999-12-31`
    with any offset still filter."""
    raw = text(value, 40)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("must be an ISO 8601 date or date-time") from None
    return in_zone(parsed, UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def zone(name: str | None) -> ZoneInfo:
    """A stored time zone name as a zone; UTC when it is not one (a page must still show)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


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
    raise Invalid(_("must be true or false"))


def number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise Invalid(_("must be a number"))
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "."))
        except ValueError:
            raise Invalid(_("must be a number")) from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(_("must be a number"))
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
                raise Invalid(_("must be a date written YYYY-MM-DD")) from None
        case DataPointType.CHOICE:
            chosen = text(value, MAX_TEXT)
            for choice in point.choices:
                if choice.lower() == (chosen or "").lower():
                    return choice
            raise Invalid(_("must be one of: %(choices)s", choices=", ".join(point.choices)))
        case DataPointType.EMAIL:
            return email(value)
        case DataPointType.URL:
            return url(value)
        case _:
            return text(value, MAX_TEXT)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of range")
    return value


def load_json(raw: bytes | str, **options: Any) -> Any:
    """`json.loads` of what someone sent: ValueError (UnicodeDecodeError is one) for anything
    that is not JSON, a document nested past the parser's recursion limit included (a
    RecursionError otherwise, which every caller had to remember: those that did not answered
    500)."""
    try:
        return json.loads(raw, **options)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def parse_json(raw: bytes | str) -> Any:
    """`load_json` that also refuses NaN and infinite numbers, which no JSON column can store."""
    return load_json(raw, parse_constant=_refuse_constant, parse_float=_finite_float)


# NUL (PostgreSQL's text and jsonb refuse it) and lone surrogates (no UTF-8 encodes them: jsonb
# refuses them, sqlite3 raises UnicodeEncodeError): text no database column can hold, as a
# refused call may carry it, decoded from its JSON escapes or from text that is not JSON.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(value: Any, depth: int = 0) -> str | None:
    """Why no database column can hold this parsed JSON (NUL characters, lone surrogates,
    nesting past 32 levels), or None."""
    if depth > 32:
        return "The body is nested too deeply"
    if isinstance(value, str):
        if "\x00" in value:
            return "Text must not contain NUL characters"
        try:
            value.encode()
        except UnicodeEncodeError:
            return "Text must be valid Unicode"
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = unstorable(key, depth + 1) or unstorable(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = unstorable(item, depth + 1)
            if problem:
                return problem
    return None
