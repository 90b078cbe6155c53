"""Take out of what a caller sent, before it is kept, its secrets (keys, tokens, passwords) and
what no column can hold."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from leadsite.values import UNSTORABLE_TEXT

REDACTED = "[redacted]"

_SEPARATORS = re.compile(r"[\s_\-.]+")
# A key is secret when, lower-cased without separators, it contains one of these words...
_SECRET_WORDS = re.compile(
    r"password|passwd|passphrase|secret|token|apikey|accesskey|privatekey|authorization"
    r"|signature|credential|cookie|bearer"
)
# ... or is one of these words on its own (`key` alone, not `monkey` or `journey_key`).
_SECRET_NAMES = frozenset({"key", "pwd", "pass", "auth", "pin", "cvv", "cvc", "sig"})
# Secrets recognizable by their form wherever they appear: our API keys and webhook secrets,
# and any bearer credential written into a text.
_SECRET_VALUES = re.compile(r"lsk_[A-Za-z0-9_\-]+|whsec_[A-Za-z0-9+/=_\-]+|(?i:bearer\s+)\S+")
# In a body that is not valid JSON: `"api_key": "value"` (or `api_key=value`) pairs.
_QUOTED_PAIR = re.compile(r'("(?P<key>[^"\\]{1,80})"\s*:\s*)"(?:[^"\\]|\\.)*"')
_FORM_PAIR = re.compile(r"(?P<lead>(?:^|[&?;\s]))(?P<key>[^=&\s]{1,80})=[^&\s]*")
UNSTORABLE_REPLACEMENT = "\ufffd"


def is_secret_key(key: Any) -> bool:
    """Whether a field of this name holds a secret, by its name alone."""
    return _is_secret_name(key if isinstance(key, str) else str(key))


@lru_cache(maxsize=4096)  # the same few field and header names, call after call
def _is_secret_name(key: str) -> bool:
    name = _SEPARATORS.sub("", key.lower())
    return name in _SECRET_NAMES or _SECRET_WORDS.search(name) is not None


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return _SECRET_VALUES.sub(REDACTED, text)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a parsed body with secret fields' values and known secrets replaced."""
    known = [s for s in secrets if s and len(s) >= 4]  # a short "secret" would blank out text
    return _redact(value, known, 0)


def _redact(value: Any, secrets: list[str], depth: int) -> Any:
    if depth > 32:
        return REDACTED
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_key(key) else _redact(item, secrets, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, secrets, depth + 1) for item in value]
    if isinstance(value, str):
        return _scrub(value, secrets)
    return value


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Redact a body that could not be parsed: known secrets, then `"key": "value"` and
    `key=value` pairs whose key names a secret."""
    text = _scrub(text, [s for s in secrets if s and len(s) >= 4])

    def quoted(match: re.Match[str]) -> str:
        if not is_secret_key(match["key"]):
            return match[0]
        return f'{match[1]}"{REDACTED}"'

    def form(match: re.Match[str]) -> str:
        if not is_secret_key(match["key"]):
            return match[0]
        return f"{match['lead']}{match['key']}={REDACTED}"

    return _FORM_PAIR.sub(form, _QUOTED_PAIR.sub(quoted, text))


def storable(value: Any) -> Any:
    """A copy of a row or a parsed body, every character no database column can hold (in its
    strings and its keys) replaced by U+FFFD; the row itself when its strings hold none and it
    holds no list or dict (a registration's entry: the log writer's common case, kept cheap)."""
    if isinstance(value, dict) and _plainly_storable(value):
        return value
    return _storable(value)


def _plainly_storable(row: dict[Any, Any]) -> bool:
    for item in row.values():
        if isinstance(item, str):
            if UNSTORABLE_TEXT.search(item):
                return False
        elif isinstance(item, dict | list) and item:
            return False
    return True


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return UNSTORABLE_TEXT.sub(UNSTORABLE_REPLACEMENT, value)
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value
