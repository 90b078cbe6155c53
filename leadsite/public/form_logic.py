"""Which fields of a public form a lead is asked: conditions on earlier answers, and steps.

The browser evaluates the same conditions (static/js/public-form.js reads them from the
`data-when-*` attributes); the server's verdict is the one that counts: a field whose condition
does not hold is neither required nor kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

if TYPE_CHECKING:
    from leadsite.public.fields import FormField

OPERATORS = ("equals", "one_of", "checked", "not_empty")
MAX_VALUES = 50


@dataclass(frozen=True)
class Condition:
    """Show a field only when the answer to `field` (an earlier input's name) fits."""

    field: str
    op: str
    values: tuple[str, ...] = ()

    def holds(self, answer: str | None) -> bool:
        answer = (answer or "").strip()
        if self.op == "checked":
            return answer == "on"
        if self.op == "not_empty":
            return bool(answer)
        return answer.casefold() in {value.casefold() for value in self.values}


def condition(raw: Any, earlier: Mapping[str, FormField]) -> Condition | None:
    """A stored `when` as a Condition; one on a field that is not earlier in the form, or that
    is malformed, is no condition (the field always shows) rather than a form that breaks."""
    if (
        not isinstance(raw, dict)
        or raw.get("field") not in earlier
        or raw.get("op") not in OPERATORS
    ):
        return None
    op = raw["op"]
    value = raw.get("value")
    items = value if isinstance(value, list) else [value]
    values = tuple(v.strip() for v in items if isinstance(v, str) and v.strip())[:MAX_VALUES]
    if op in ("equals", "one_of") and not values:
        return None
    return Condition(raw["field"], op, values[:1] if op == "equals" else values)


def visible(
    fields: Iterable[FormField], answers: Mapping[str, str], open_step: int | None = None
) -> set[str]:
    """The names of the fields shown for these answers: a field shows when it has no condition,
    or when the field its condition looks at shows and its answer fits.

    With `open_step`, a condition on a field of that step counts as met: the lead is about to
    answer it, and the browser (or the note "Only if ...") decides there."""
    fields = list(fields)
    steps = {item.name: item.step for item in fields}
    shown: set[str] = set()
    for item in fields:
        rule = item.condition
        if rule is None or (
            rule.field in shown
            and (steps.get(rule.field) == open_step or rule.holds(answers.get(rule.field)))
        ):
            shown.add(item.name)
    return shown


def describe(rule: Condition, fields: Iterable[FormField]) -> str:
    """The note a field with a condition carries where the browser cannot hide it."""
    label = next((item.label for item in fields if item.name == rule.field), rule.field)
    if rule.op == "checked":
        return _("Only if you ticked “%(label)s”.", label=label)
    if rule.op == "not_empty":
        return _("Only if you answered “%(label)s”.", label=label)
    if rule.op == "equals":
        return _("Only if “%(label)s” is %(value)s.", label=label, value=rule.values[0])
    return _(
        "Only if “%(label)s” is one of: %(values)s.", label=label, values=", ".join(rule.values)
    )
