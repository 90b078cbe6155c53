"""The funnel editor's form of a `stakeholder_task`: who is asked, to do what, seeing what."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import g
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from leadsite.backoffice.funnel_activity_forms import ActivityForm, CheckboxesField
from leadsite.data_points import workspace_data_points
from leadsite.journeys.stakeholders import DEFAULT_VALID_DAYS, MAX_VALID_DAYS
from leadsite.journeys.uploads import DEFAULT_ACCEPT
from leadsite.models import ActivityKind, DataPointType

ACTIONS = [
    SelectChoice("approve", "Approve or reject, with a comment"),
    SelectChoice("fill", "Fill in data points"),
    SelectChoice("upload", "Upload a document"),
]
ACCEPT_HELP = "Extensions, separated by commas. Empty: " + ", ".join(DEFAULT_ACCEPT) + "."
DECISION_TYPES = (DataPointType.TEXT, DataPointType.CHOICE, DataPointType.BOOLEAN)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class StakeholderTaskForm(ActivityForm):
    kind = ActivityKind.STAKEHOLDER_TASK.value
    accept_help = ACCEPT_HELP
    config_fields = (
        "email",
        "email_data_point",
        "action",
        "instructions",
        "show_data_points",
        "data_points",
        "decision_data_point",
        "accept",
        "valid_days",
    )
    email = StringField(
        "Stakeholder's email", validators=[Optional(), Length(max=254)], filters=[_strip]
    )
    email_data_point = SelectField("Or the data point holding it", default="")
    action = SelectField("What they do", choices=ACTIONS, default="approve")
    instructions = TextAreaField(
        "Instructions", validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    show_data_points = CheckboxesField("Journey data they see", choices=[])
    data_points = CheckboxesField("Data points they fill in", choices=[])
    decision_data_point = SelectField("Keep the decision in", default="")
    accept = StringField(
        "Accepted file types", validators=[Optional(), Length(max=200)], filters=[_strip]
    )
    valid_days = IntegerField(
        "Link works for (days)",
        validators=[InputRequired(), NumberRange(min=1, max=MAX_VALID_DAYS)],
        default=DEFAULT_VALID_DAYS,
    )

    def set_options(self, options: dict[str, Any]) -> None:
        points = [p for p in workspace_data_points(g.workspace.id) if p.archived_at is None]
        every = [SelectChoice(p.name, p.label) for p in points]
        self.show_data_points.choices = every
        self.data_points.choices = every
        self.email_data_point.choices = [
            SelectChoice("", "None: use the address above"),
            *(SelectChoice(p.name, p.label) for p in points if p.type == DataPointType.EMAIL),
        ]
        self.decision_data_point.choices = [
            SelectChoice("", "Nowhere"),
            *(SelectChoice(p.name, p.label) for p in points if p.type in DECISION_TYPES),
        ]

    def config_data(self, config: dict[str, Any]) -> dict[str, Any]:
        data = super().config_data(config)
        if isinstance(config.get("accept"), list):
            data["accept"] = ", ".join(str(item) for item in config["accept"])
        return data

    def config(self) -> dict[str, Any]:
        config = super().config()
        if config.get("action") != "fill":
            config.pop("data_points", None)
        if config.get("action") != "approve":
            config.pop("decision_data_point", None)
        if config.get("action") == "upload" and config.get("accept"):
            items = str(config["accept"]).replace(",", " ").split()
            config["accept"] = [item.lower().lstrip(".") for item in items]
        else:
            config.pop("accept", None)
        return config

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for name in self.config().get("accept", []):
            if not name.isalnum() or len(name) > 10:
                self.accept.errors = [f"“{name}” is not a file extension (pdf, png, docx…)."]
                return False
        return valid and self._address_allowed()

    def _address_allowed(self) -> bool:
        """A fixed address receives lead data: as for staff notifications, managers may name
        only the workspace's users or the address an administrator set. An address from the
        journey's data is the lead's own choice (their accountant), open to managers too."""
        from leadsite.backoffice.outbound import recipients_allowed  # it imports our caller

        if not self.email.data:
            return True
        kept = (self.activity.config or {}).get("email") if self.activity is not None else None
        field = SimpleNamespace(data=[self.email.data], errors=[])
        allowed = recipients_allowed(field, [kept] if isinstance(kept, str) else None)  # type: ignore[arg-type]
        self.email.errors = [*self.email.errors, *field.errors]
        return allowed


SUMMARY_ACTIONS = {"approve": "Approves or rejects", "fill": "Fills in", "upload": "Uploads"}


def stakeholder_summary(config: dict[str, Any]) -> str:
    """One line for the stage list: who is asked to do what."""
    who = config.get("email") or f"the address in {config.get('email_data_point')}"
    what = SUMMARY_ACTIONS.get(config.get("action", "approve"), "Answers")
    if config.get("action") == "fill":
        what += " " + ", ".join(map(str, config.get("data_points") or []))
    return f"{what}: {who}"
