"""Comparing values in conditions: never raising, whatever odd data a lead brings."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from leadsite import values

VALUELESS_OPS = ("set", "not_set")
# How a rule reads when it holds, and when it does not.
SYMBOLS = {
    "eq": "=",
    "ne": "≠",
    "contains": "contains",
    "gt": ">",
    "lt": "<",
    "gte": "≥",
    "lte": "≤",
}
NEGATIONS = {
    "eq": "≠",
    "ne": "=",
    "contains": "does not contain",
    "gt": "is not >",
    "lt": "is not <",
    "gte": "is not ≥",
    "lte": "is not ≤",
}


def matches(op: str, actual: Any, expected: Any) -> bool:
    """Whether `actual op expected` holds; never raises, whatever the two are."""
    if op == "set":
        return is_set(actual)
    if op == "not_set":
        return not is_set(actual)
    if isinstance(actual, list):
        has = any(_equal(item, expected) for item in actual)
        return {"eq": has, "contains": has, "ne": not has}.get(op, False)
    if op == "eq":
        return _equal(actual, expected)
    if op == "ne":
        return not _equal(actual, expected)
    if op == "contains":
        haystack, needle = _as_text(actual), _as_text(expected)
        return haystack is not None and needle is not None and needle.casefold() in haystack
    order = _compare(actual, expected)
    if order is None:
        return False
    return {"gt": order > 0, "lt": order < 0, "gte": order >= 0, "lte": order <= 0}.get(op, False)


def is_set(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        return bool(value)
    return True


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool | list | dict):
        return None
    try:
        number = float(values.number(value))
    except (values.Invalid, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _boolean(value: Any) -> bool | None:
    try:
        return values.boolean(value)
    except values.Invalid:
        return None


def _as_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value).casefold()
    return None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value.strip()) != 10:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _equal(actual: Any, expected: Any) -> bool:
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(actual, bool) or isinstance(expected, bool):
        left, right = _boolean(actual), _boolean(expected)
        return left is not None and left == right
    left_number, right_number = _number(actual), _number(expected)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.strip().casefold() == expected.strip().casefold()
    return bool(actual == expected)


def _compare(actual: Any, expected: Any) -> int | None:
    """-1, 0 or 1 when the two are numbers or dates; None when they cannot be compared."""
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    left_date, right_date = _date(actual), _date(expected)
    if left_date is not None and right_date is not None:
        return (left_date > right_date) - (left_date < right_date)
    return None


def label(field: str) -> str:
    """`data.team_size` -> `team_size`, `custom.plan` -> `plan`."""
    return field.split(".", 1)[1] if field.startswith(("data.", "custom.")) else field


def shown(value: Any, limit: int = 40) -> str:
    """A value as a person reads it in an explanation."""
    if value is None:
        text = "not set"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list):
        text = ", ".join(shown(item, limit) for item in value) or "none"
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def explain(field: str, op: str, actual: Any, expected: Any, holds: bool) -> str:
    """`team_size (40) > 10`; `team_size (4) is not > 10`; `company is not set`."""
    name = label(field)
    if op in VALUELESS_OPS:
        present = is_set(actual)
        return f"{name} ({shown(actual)}) is set" if present else f"{name} is not set"
    word = SYMBOLS[op] if holds else NEGATIONS[op]
    return f"{name} ({shown(actual)}) {word} {shown(expected)}"


def is_number(value: Any) -> bool:
    return _number(value) is not None


def is_date(value: Any) -> bool:
    return _date(value) is not None
