"""Stage forms of the funnel editor: a stage's name, delay and entry condition as rule rows."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from leadsite import values
from leadsite.journeys.compare import VALUELESS_OPS
from leadsite.journeys.conditions import LEAD_FIELDS, validate_condition
from leadsite.models import Stage

OP_LABELS = {
    "eq": "is",
    "ne": "is not",
    "contains": "contains",
    "gt": "is greater than",
    "lt": "is less than",
    "gte": "is at least",
    "lte": "is at most",
    "set": "is set",
    "not_set": "is not set",
}
MAX_RULES = 20
RULE_PLACE = re.compile(r"condition\.rules\[(\d+)\]\.(field|op|value)")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def field_choices(data_points: list[tuple[str, str]]) -> list[SelectChoice]:
    """What a rule can look at, grouped for a select: lead fields, then data points."""
    lead = [
        SelectChoice(name, name.replace("_", " ").capitalize(), optgroup="Lead")
        for name in (*LEAD_FIELDS, "tags")
    ]
    points = [
        SelectChoice(f"data.{name}", label, optgroup="Data points") for name, label in data_points
    ]
    return [SelectChoice("", "Choose a field…"), *lead, *points]


class RuleForm(Form):
    """One row of a condition: field, operator, value. A row without a field is ignored."""

    field = SelectField("Field", validators=[Optional()], validate_choice=False)
    op = SelectField(
        "Operator",
        choices=[SelectChoice(op, label) for op, label in OP_LABELS.items()],
        validators=[Optional()],
    )
    value = StringField("Value", validators=[Optional(), Length(max=200)], filters=[_strip])


def rule_value(text: str | None) -> Any:
    """A value typed in a rule as JSON: numbers as numbers, everything else as text."""
    if text is None or text == "":
        return None
    try:
        return values.number(text) if text.lstrip("+-").replace(".", "", 1).isdigit() else text
    except values.Invalid:
        return text


class NewStageForm(FlaskForm):
    """Adding a stage asks for its name; its condition and delay are set by editing it."""

    name = StringField("New stage", validators=[DataRequired(), Length(max=120)], filters=[_strip])

    def __init__(self, *args: Any, **kw: Any) -> None:
        # Prefixed: the edit page holds the settings form, whose fields have the same names.
        super().__init__(*args, prefix=kw.pop("prefix", "new-stage"), **kw)


class StageForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    delay_minutes = IntegerField(
        "Wait before the stage starts (minutes)",
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=525_600)],
    )
    match = SelectField(
        "Enter this stage when",
        choices=[
            SelectChoice("all", "all of the rules hold"),
            SelectChoice("any", "any rule holds"),
        ],
        default="all",
    )
    rules = FieldList(FormField(RuleForm), min_entries=1, max_entries=MAX_RULES)

    def __init__(
        self,
        *args: Any,
        data_points: list[tuple[str, str]],
        stage: Stage | None = None,
        **kw: Any,
    ) -> None:
        data: dict[str, Any] | None = kw.pop("data", None)
        if stage is not None and data is None:
            data = {
                "name": stage.name,
                "delay_minutes": stage.delay_minutes,
                "match": (stage.condition or {}).get("match", "all"),
                "rules": rows_data(stage.condition),
            }
        super().__init__(*args, data=data, prefix=kw.pop("prefix", "stage"), **kw)
        self.data_points = data_points
        self.stage = stage
        # An empty row to write a new rule in (one is enough: saving adds the next).
        self.added_blank = self.add_blank_rule()

    def add_blank_rule(self, force: bool = False) -> bool:
        """Add an empty last row unless there is one already (or `force`); True if added."""
        return add_blank_row(self.rules, self.data_points, force)

    def condition(self) -> dict[str, Any] | None:
        """The condition the rows describe; None when there is no rule (always entered)."""
        return rows_condition(self.match.data, self.rules)

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        names = [name for name, _ in self.data_points]
        return place_rule_errors(self.condition(), self.rules, names) and valid


def add_blank_row(rules: FieldList, data_points: list[tuple[str, str]], force: bool) -> bool:
    """Add an empty last rule row unless there is one already (or `force`), and give every row
    its field choices; True if a row was added."""
    entries = rules.entries
    added = len(entries) < MAX_RULES and (force or not entries or bool(entries[-1].form.field.data))
    if added:
        rules.append_entry()
    set_field_choices(rules, data_points)
    return added


def set_field_choices(rules: FieldList, data_points: list[tuple[str, str]]) -> None:
    choices = field_choices(data_points)
    known = {choice.value for choice in choices}
    # A field this editor does not offer (custom.*, or a data point since deleted) stays.
    others = {
        entry.form.field.data
        for entry in rules
        if entry.form.field.data and entry.form.field.data not in known
    }
    choices += [SelectChoice(name, name, optgroup="Other") for name in sorted(others)]
    for entry in rules:
        entry.form.field.choices = choices


def rows_condition(match: str | None, rules: FieldList) -> dict[str, Any] | None:
    """The condition rule rows describe; None when no row has a field."""
    found = []
    for entry in rules:
        row = entry.form
        if not row.field.data:
            continue
        rule: dict[str, Any] = {"field": row.field.data, "op": row.op.data}
        if row.op.data not in VALUELESS_OPS:
            rule["value"] = rule_value(row.value.data)
        found.append(rule)
    return {"match": match or "all", "rules": found} if found else None


def rows_data(condition: Any) -> list[dict[str, Any]]:
    """A stored condition's top-level rules as rows' data (nested groups are not edited here)."""
    rules = (condition or {}).get("rules") or [] if isinstance(condition, dict) else []
    return [
        {"field": r.get("field"), "op": r.get("op"), "value": _shown(r.get("value"))}
        for r in rules
        if isinstance(r, dict) and "rules" not in r
    ]


def place_rule_errors(condition: Any, rules: FieldList, data_points: list[str]) -> bool:
    """Put each problem of the condition on the row and part it is about; True when none."""
    rows = [entry.form for entry in rules if entry.form.field.data]
    placed = _rule_errors(condition, data_points)
    for index, part, error in placed:
        field = getattr(rows[index], part)
        field.errors = [*field.errors, error]
    return not placed


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _rule_errors(
    condition: dict[str, Any] | None, data_points: list[str]
) -> list[tuple[int, str, str]]:
    """validate_condition's sentences, each placed on the row and part (field, op, value) it is
    about: `condition.rules[2].value: ...` -> (2, "value", ...)."""
    placed = []
    for error in validate_condition(condition, data_points):
        head, _, message = error.partition(": ")
        match = RULE_PLACE.fullmatch(head)
        if match:
            placed.append((int(match[1]), match[2], _reworded(message)))
    return placed


def _reworded(message: str) -> str:
    """The validator's words for a person: operators by their label, no code quotes."""
    for op, label in OP_LABELS.items():
        message = message.replace(f"`{op}`", f"“{label}”")
    message = message.replace("`", "")
    return message[:1].upper() + message[1:] + "."


def _field_label(field: str, data_point_labels: dict[str, str]) -> str:
    if field.startswith("data."):
        return data_point_labels.get(field[5:], field[5:])
    if field.startswith("custom."):
        return f"custom field {field[7:]}"
    return field.replace("_", " ")


def describe_condition(condition: Any, data_point_labels: dict[str, str]) -> str:
    """A stage's condition as a sentence for the stage list."""
    if not condition or not condition.get("rules"):
        return "Every journey enters this stage."
    return f"Entered when {condition_words(condition, data_point_labels)}; otherwise skipped."


def condition_words(condition: dict[str, Any], data_point_labels: dict[str, str]) -> str:
    """A condition as words: `team size is greater than 10 and plan is Growth`."""
    joiner = " or " if condition.get("match") == "any" else " and "
    parts = []
    for rule in condition.get("rules") or []:
        if isinstance(rule, dict) and "rules" in rule:
            parts.append(f"({condition_words(rule, data_point_labels)})")
            continue
        name = _field_label(str(rule.get("field")), data_point_labels)
        op = OP_LABELS.get(str(rule.get("op")), str(rule.get("op")))
        value = "" if rule.get("op") in VALUELESS_OPS else f" {_shown(rule.get('value'))}"
        parts.append(f"{name} {op}{value}")
    return joiner.join(parts)


def wait_until_summary(config: dict[str, Any], stage: Stage) -> str:
    """A wait-until activity for the stage list: `Until company is set, at most 3 days (then
    “Chase”)`."""
    condition = config.get("condition")
    words = condition_words(condition, {}) if isinstance(condition, dict) else "?"
    timeout = config.get("timeout") if isinstance(config.get("timeout"), dict) else {}
    limit = " ".join(f"{timeout[u]} {u}" for u in ("minutes", "hours", "days") if timeout.get(u))
    target = config.get("on_timeout")
    names = {s.id: s.name for s in stage.funnel.stages} if target else {}
    then = " (then the end)" if target == "end" else ""
    then = then or (f" (then “{names.get(target, 'a deleted stage')}”)" if target else "")
    return f"Until {words}, at most {limit or '?'}{then}"
