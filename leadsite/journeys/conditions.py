"""The condition language of stages: which journeys enter a stage, and a sentence saying why.

A condition is JSON, stored on `Stage.condition`::

    {"match": "all", "rules": [{"field": "data.team_size", "op": "gt", "value": 10}]}

- `match`: `all` (default) or `any`.
- `rules`: a list of rules, or of nested groups (`{"match": ..., "rules": [...]}`).
- `field`: a lead column (`email`, `status`, `first_name`, `utm_source`, ... see `LEAD_FIELDS`),
  `tags`, `custom.<key>` (the lead's custom fields) or `data.<name>` (the journey's data point).
- `op`: `eq`, `ne`, `contains`, `gt`, `lt`, `gte`, `lte`, `set`, `not_set`; every op but the last
  two needs a `value`.

Null, `{}` or no rules: the condition always holds. Evaluating never raises: text compares without
regard to case, numbers (and text that reads as a number) compare numerically, `YYYY-MM-DD` dates
compare as dates, and anything else that cannot be compared simply does not match. On a list
(`tags`) `eq` and `contains` mean "has an item equal to", `ne` "has no item equal to". A condition
that is not valid (see `validate_condition`) does not hold.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from leadsite.extensions import db
from leadsite.journeys.compare import VALUELESS_OPS, explain, is_date, is_number, matches, shown
from leadsite.models import UTM_FIELDS, DataPoint, Journey, JourneyData, Lead

LEAD_FIELDS = (
    "email",
    "phone",
    "unique_id",
    "first_name",
    "last_name",
    "address",
    "status",
    "source",
    "source_url",
    "referrer",
    *UTM_FIELDS,
    "counter",
    "opt_in",
    "sms_opt_in",
    "confirmed",
    "opted_out",
)
MATCHES = ("all", "any")
OPS = ("eq", "ne", "contains", "gt", "lt", "gte", "lte", "set", "not_set")
ORDER_OPS = ("gt", "lt", "gte", "lte")
MAX_DEPTH = 4
NO_CONDITION = "no condition"


def evaluate(condition: Any, lead: Lead, journey: Journey | None = None) -> tuple[bool, str]:
    """Whether `condition` holds for this lead and journey, and a short sentence saying why."""
    return Facts(lead, journey).evaluate(condition)


class Facts:
    """What conditions look at, read once: the lead's fields and the journey's data points.

    Keep one for several conditions on the same journey (the engine does, choosing a stage).
    """

    def __init__(
        self, lead: Lead, journey: Journey | None = None, data: dict[str, Any] | None = None
    ) -> None:
        self.lead = lead
        self.journey = journey
        self._data = data

    def evaluate(self, condition: Any) -> tuple[bool, str]:
        if is_empty(condition):
            return True, NO_CONDITION
        errors = validate_condition(condition)
        if errors:
            return False, f"invalid condition: {errors[0]}"
        return self._group(condition)

    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = data_values(self.journey) if self.journey is not None else {}
        return self._data

    def value(self, field: str) -> Any:
        if field == "tags":
            return list(self.lead.tags or [])
        if field.startswith("custom."):
            return (self.lead.custom_fields or {}).get(field.removeprefix("custom."))
        if field.startswith("data."):
            return self.data().get(field.removeprefix("data."))
        if field == "confirmed":
            return self.lead.confirmed_at is not None
        if field == "opted_out":
            return self.lead.opted_out_at is not None
        return getattr(self.lead, field)

    def _group(self, group: dict[str, Any]) -> tuple[bool, str]:
        results = [self._item(item) for item in group["rules"]]
        if group.get("match", "all") == "any":
            held = [why for holds, why in results if holds]
            return (True, held[0]) if held else (False, " and ".join(why for _, why in results))
        failed = [why for holds, why in results if not holds]
        return (False, failed[0]) if failed else (True, " and ".join(why for _, why in results))

    def _item(self, item: dict[str, Any]) -> tuple[bool, str]:
        if "rules" in item:
            holds, why = self._group(item)
            return holds, f"({why})" if len(item["rules"]) > 1 else why
        field, op, expected = item["field"], item["op"], item.get("value")
        actual = self.value(field)
        holds = matches(op, actual, expected)
        return holds, explain(field, op, actual, expected, holds)


def is_empty(condition: Any) -> bool:
    """No condition at all: null, `{}`, or a group without rules."""
    if condition is None:
        return True
    return (
        isinstance(condition, dict)
        and set(condition) <= {"match", "rules"}
        and condition.get("rules") in (None, [])
    )


def needs_data(condition: Any) -> bool:
    """Whether a condition reads the journey's data points (`data.<name>` fields)."""
    if not isinstance(condition, dict):
        return False
    if "rules" in condition:
        rules = condition["rules"]
        return isinstance(rules, list) and any(needs_data(rule) for rule in rules)
    return str(condition.get("field", "")).startswith("data.")


def data_values(journey: Journey) -> dict[str, Any]:
    """The journey's data points by name, in one query."""
    rows = db.session.execute(
        db.select(DataPoint.name, JourneyData.value)
        .join(JourneyData.data_point)
        .filter(JourneyData.journey_id == journey.id)
    )
    return {name: value for name, value in rows}


def validate_condition(condition: Any, data_points: Collection[str] | None = None) -> list[str]:
    """Every problem with a condition, as sentences; empty when it is valid.

    Pass the workspace's data point names as `data_points` to check `data.<name>` fields too.
    """
    if is_empty(condition):
        return []
    errors: list[str] = []
    _validate_group(condition, "condition", errors, data_points, 1)
    return errors


def _validate_group(
    group: Any, where: str, errors: list[str], data_points: Collection[str] | None, depth: int
) -> None:
    if not isinstance(group, dict):
        errors.append(f"{where} must be an object with `match` and `rules`")
        return
    if group.get("match", "all") not in MATCHES:
        errors.append(f"{where}.match must be `all` or `any`")
    rules = group.get("rules")
    if not isinstance(rules, list):
        errors.append(f"{where}.rules must be a list")
        return
    if depth > MAX_DEPTH:
        errors.append(f"{where} nests groups more than {MAX_DEPTH} deep")
        return
    if not rules and depth > 1:
        errors.append(f"{where} has no rules")
    for index, rule in enumerate(rules):
        place = f"{where}.rules[{index}]"
        if isinstance(rule, dict) and "rules" in rule:
            _validate_group(rule, place, errors, data_points, depth + 1)
        else:
            _validate_rule(rule, place, errors, data_points)


def _validate_rule(
    rule: Any, where: str, errors: list[str], data_points: Collection[str] | None
) -> None:
    if not isinstance(rule, dict):
        errors.append(f"{where} must be an object with `field`, `op` and `value`")
        return
    field, op = rule.get("field"), rule.get("op")
    if not isinstance(field, str) or not _known_field(field, data_points):
        errors.append(f"{where}.field: unknown field {shown(field)!r}")
    if op not in OPS:
        errors.append(f"{where}.op: unknown operator {shown(op)!r} (one of {', '.join(OPS)})")
    elif op not in VALUELESS_OPS:
        expected = rule.get("value")
        if expected is None or isinstance(expected, dict | list):
            errors.append(f"{where}.value: `{op}` needs a text, number or true/false value")
        elif op in ORDER_OPS and not (is_number(expected) or is_date(expected)):
            errors.append(f"{where}.value: `{op}` needs a number or a YYYY-MM-DD date")


def _known_field(field: str, data_points: Collection[str] | None) -> bool:
    if field in LEAD_FIELDS or field == "tags":
        return True
    prefix, _, name = field.partition(".")
    if prefix == "custom":
        return bool(name)
    if prefix == "data":
        return bool(name) and (data_points is None or name in data_points)
    return False
