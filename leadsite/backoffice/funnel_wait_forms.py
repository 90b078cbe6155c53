"""The wait-until activity form: the condition to wait for (rule rows), a timeout, and where
the journey goes when the timeout passes first."""

from __future__ import annotations

from typing import Any

from flask import request
from wtforms import FieldList, FormField, IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange

from leadsite.backoffice.funnel_activity_forms import FORMS, ActivityForm
from leadsite.backoffice.funnel_changes import find_stage
from leadsite.backoffice.funnel_decision_forms import MATCH_CHOICES, target_choices, target_problem
from leadsite.backoffice.funnel_stage_forms import (
    MAX_RULES,
    RuleForm,
    add_blank_row,
    place_rule_errors,
    rows_condition,
    rows_data,
)
from leadsite.extensions import db
from leadsite.journeys.waits import UNITS, timeout_of
from leadsite.models import ActivityKind, Funnel, Stage

AS_DECIDED = ""


class WaitUntilForm(ActivityForm):
    kind = ActivityKind.WAIT_UNTIL.value

    match = SelectField("Go on when", choices=MATCH_CHOICES, default="all")
    rules = FieldList(FormField(RuleForm), min_entries=1, max_entries=MAX_RULES)
    amount = IntegerField(
        "Or at most after",
        validators=[InputRequired(), NumberRange(min=1, max=100_000)],
        default=3,
    )
    unit = SelectField("Unit", choices=[SelectChoice(u) for u in UNITS], default="days")
    on_timeout = SelectField("When the time is up first, go to", validate_choice=False)

    def config_data(self, config: dict[str, Any]) -> dict[str, Any]:
        condition = config.get("condition") or {}
        timeout = config.get("timeout") or {}
        data = {
            "match": condition.get("match", "all") if isinstance(condition, dict) else "all",
            "rules": rows_data(condition),
            "on_timeout": config.get("on_timeout") or AS_DECIDED,
        }
        for unit in reversed(UNITS):
            if isinstance(timeout, dict) and timeout.get(unit):
                data.update(amount=timeout[unit], unit=unit)
                break
        return data

    def set_options(self, options: dict[str, Any]) -> None:
        self.data_points = options.get("data_points", [])
        self.stage = self.activity.stage if self.activity is not None else _stage_of_request()
        add_blank_row(self.rules, self.data_points, force=False)
        if len(self.rules.entries) < 2:  # room for a second rule without a round trip
            add_blank_row(self.rules, self.data_points, force=True)
        stages = self._stages()
        first = SelectChoice(AS_DECIDED, "Where the stage's decisions say")
        self.on_timeout.choices = (
            target_choices(self.stage, stages, first) if self.stage is not None else [first]
        )

    def _stages(self) -> list[Stage]:
        if self.stage is None:
            return []
        return list(
            db.session.scalars(
                db.select(Stage).filter_by(funnel_id=self.stage.funnel_id).order_by(Stage.position)
            )
        )

    def config(self) -> dict[str, Any]:
        return {
            "condition": rows_condition(self.match.data, self.rules),
            "timeout": {self.unit.data: self.amount.data},
            "on_timeout": self.on_timeout.data or None,
        }

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super(ActivityForm, self).validate(extra_validators)
        condition = rows_condition(self.match.data, self.rules)
        if condition is None:
            field = self.rules.entries[0].form.field
            field.errors = [*field.errors, "Choose what to wait for."]
            valid = False
        names = [name for name, _ in self.data_points]
        valid = place_rule_errors(condition, self.rules, names) and valid
        if valid and timeout_of(self.config()) is None:
            self.amount.errors = [*self.amount.errors, "At most ten years."]
            valid = False
        if self.stage is not None:
            problem = target_problem(self.on_timeout.data, self.stage, self._stages())
            if problem:
                self.on_timeout.errors = [*self.on_timeout.errors, problem]
                valid = False
        return valid


def _stage_of_request() -> Stage | None:
    """The stage a new activity is added to (the create view's URL names it)."""
    args = request.view_args or {}
    funnel = db.session.get(Funnel, args.get("funnel_id", ""))
    return find_stage(funnel, args.get("stage_id", "")) if funnel is not None else None


FORMS[WaitUntilForm.kind] = WaitUntilForm
