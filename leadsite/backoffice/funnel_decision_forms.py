"""The decisions form of a stage: ordered branches (a condition → a later stage or the end) and
where the journey goes otherwise. Branch conditions use the stage condition's rule rows."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from leadsite.backoffice.funnel_stage_forms import (
    MAX_RULES,
    RuleForm,
    add_blank_row,
    condition_words,
    place_rule_errors,
    rows_condition,
    rows_data,
)
from leadsite.journeys.decisions import END, MAX_BRANCHES
from leadsite.models import Stage

MATCH_CHOICES = [
    SelectChoice("all", "all of the rules hold"),
    SelectChoice("any", "any rule holds"),
]
NEXT_IN_ORDER = ""
FORWARD_ONLY = "Choose a stage after this one: journeys only go forward."


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def target_choices(stage: Stage, stages: list[Stage], first: SelectChoice) -> list[SelectChoice]:
    """`first`, the stages after `stage`, then the end."""
    later = [s for s in stages if s.position > stage.position]
    return [first, *(SelectChoice(s.id, f"“{s.name}”") for s in later), SelectChoice(END, "End")]


def target_problem(target: str | None, stage: Stage, stages: list[Stage]) -> str | None:
    """Why `target` cannot be where `stage` sends journeys; None when it can."""
    if not target or target == END:
        return None
    positions = {s.id: s.position for s in stages}
    if target not in positions:
        return "That stage no longer exists: choose another."
    return FORWARD_ONLY if positions[target] <= stage.position else None


def described_target(target: str | None, stages: list[Stage]) -> str:
    """A target for the stage list: “Sales review”, the end, or the next stage in order."""
    if target == END:
        return "the end"
    names = {s.id: s.name for s in stages}
    return f"“{names[target]}”" if target in names else "the next stage in order"


class BranchForm(Form):
    """One branch: when its rules hold, the journey goes to `to`."""

    label = StringField("Name", validators=[Optional(), Length(max=60)], filters=[_strip])
    match = SelectField("Take this branch when", choices=MATCH_CHOICES, default="all")
    rules = FieldList(FormField(RuleForm), min_entries=0, max_entries=MAX_RULES)
    to = SelectField("Go to", validate_choice=False)


class DecisionsForm(FlaskForm):
    """A stage's branches, in order, and its "otherwise"."""

    branches = FieldList(FormField(BranchForm), min_entries=0, max_entries=MAX_BRANCHES)
    otherwise = SelectField("Otherwise", validate_choice=False, default=NEXT_IN_ORDER)

    def __init__(
        self,
        *args: Any,
        stage: Stage,
        stages: list[Stage],
        data_points: list[tuple[str, str]],
        **kw: Any,
    ) -> None:
        if "data" not in kw and kw.get("formdata", True) is not None:
            kw["data"] = {
                "branches": [
                    {
                        "label": branch.get("label") or "",
                        "match": (branch.get("condition") or {}).get("match", "all"),
                        "rules": rows_data(branch.get("condition")),
                        "to": branch.get("to") or "",
                    }
                    for branch in stage.decisions or []
                    if isinstance(branch, dict)
                ],
                "otherwise": stage.otherwise or NEXT_IN_ORDER,
            }
        super().__init__(*args, prefix=kw.pop("prefix", "decisions"), **kw)
        self.stage, self.stages, self.data_points = stage, stages, data_points
        self.set_choices()

    def set_choices(self) -> None:
        """Targets after this stage; a saved target that no longer is one stays, marked."""
        pick = SelectChoice("", "Choose a stage…")
        for entry in self.branches:
            branch = entry.form
            if not branch.rules.entries:
                branch.rules.append_entry()
            add_blank_row(branch.rules, self.data_points, force=False)
            branch.to.choices = self._with_stale(
                target_choices(self.stage, self.stages, pick), branch.to.data
            )
        first = SelectChoice(NEXT_IN_ORDER, "The next stage in order (by its condition)")
        self.otherwise.choices = self._with_stale(
            target_choices(self.stage, self.stages, first), self.otherwise.data
        )

    def _with_stale(self, choices: list[SelectChoice], value: str | None = None) -> list:
        known = {choice.value for choice in choices}
        if value and value not in known:
            names = {s.id: s.name for s in self.stages}
            label = f"“{names[value]}” (not after this stage)" if value in names else "(deleted)"
            choices = [*choices, SelectChoice(value, label)]
        return choices

    def decisions(self) -> list[dict[str, Any]]:
        """The branches as stored (`Stage.decisions`), in order."""
        found = []
        for entry in self.branches:
            branch = entry.form
            item: dict[str, Any] = {
                "condition": rows_condition(branch.match.data, branch.rules),
                "to": branch.to.data,
            }
            if branch.label.data:
                item["label"] = branch.label.data
            found.append(item)
        return found

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        names = [name for name, _ in self.data_points]
        for entry in self.branches:
            branch = entry.form
            condition = rows_condition(branch.match.data, branch.rules)
            if condition is None:
                field = branch.rules.entries[0].form.field
                field.errors = [
                    *field.errors,
                    "Give the branch a rule (a journey matching nothing goes “otherwise”).",
                ]
                valid = False
            valid = place_rule_errors(condition, branch.rules, names) and valid
            if not branch.to.data:
                branch.to.errors = [*branch.to.errors, "Choose where this branch goes."]
                valid = False
            problem = target_problem(branch.to.data, self.stage, self.stages)
            if problem:
                branch.to.errors = [*branch.to.errors, problem]
                valid = False
        problem = target_problem(self.otherwise.data, self.stage, self.stages)
        if problem:
            self.otherwise.errors = [*self.otherwise.errors, problem]
            valid = False
        return valid

    def edited(self, action: str, index: int) -> dict[str, Any]:
        """The form's data after an editing button (add, remove, move up, add a rule), for a
        form rebuilt from it: nothing is saved."""
        branches = [dict(entry.form.data) for entry in self.branches]
        for branch in branches:
            branch["rules"] = [rule for rule in branch["rules"] if rule.get("field")]
        if action == "add" and len(branches) < MAX_BRANCHES:
            branches.append({"label": "", "match": "all", "rules": [], "to": ""})
        elif action == "remove" and 0 <= index < len(branches):
            branches.pop(index)
        elif action == "up" and 0 < index < len(branches):
            branches[index - 1], branches[index] = branches[index], branches[index - 1]
        elif action == "rule" and 0 <= index < len(branches):
            branches[index]["rules"].append({"field": "", "op": "eq", "value": ""})
            branches[index]["rules"].append({"field": "", "op": "eq", "value": ""})
        return {"branches": branches, "otherwise": self.otherwise.data}


def describe_decisions(
    stage: Stage, stages: list[Stage], data_point_labels: dict[str, str]
) -> list[str]:
    """Where the finished stage sends journeys, a line per branch, for the stage list; empty
    when it has no decisions (journeys go on in order)."""
    if not stage.decisions and not stage.otherwise:
        return []
    lines = []
    for index, branch in enumerate(stage.decisions or []):
        condition = branch.get("condition") or {}
        words = condition_words(condition, data_point_labels) if condition else "always"
        label = f" ({branch['label']})" if branch.get("label") else ""
        target = described_target(branch.get("to"), stages)
        stale = target_problem(branch.get("to"), stage, stages)
        lines.append(
            f"{index + 1}. If {words} → {target}{label}"
            + (" — not followed: gone or not after this stage" if stale else "")
        )
    lines.append(f"Otherwise → {described_target(stage.otherwise, stages)}")
    return lines
