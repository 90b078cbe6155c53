"""Activity forms, one per kind: each knows its settings (Activity.config) and how to read them."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from leadsite.backoffice.activity_templates import TemplateVariablesMixin
from leadsite.backoffice.funnel_forms import EmailListField
from leadsite.backoffice.funnel_stage_forms import wait_until_summary
from leadsite.journeys.activities import validate_activity_config
from leadsite.journeys.due_dates import MAX_DUE_WITHIN_DAYS
from leadsite.models import Activity, ActivityKind

KIND_LABELS = {
    ActivityKind.LEAD_TASK.value: "Task for the lead",
    ActivityKind.STAFF_TASK.value: "Task for staff",
    ActivityKind.EMAIL_LEAD.value: "Email the lead",
    ActivityKind.NOTIFY_STAFF.value: "Notify staff by email",
    ActivityKind.WEBHOOK.value: "Call a webhook",
    ActivityKind.SET_STATUS.value: "Set the lead's status",
    ActivityKind.ADD_TAG.value: "Tag the lead",
    ActivityKind.WAIT.value: "Wait",
    ActivityKind.WAIT_UNTIL.value: "Wait until",
    ActivityKind.STAKEHOLDER_TASK.value: "Task for a stakeholder",
}
KIND_HELP = {
    ActivityKind.LEAD_TASK.value: "The lead does it on their journey page, e.g. fills in data.",
    ActivityKind.STAFF_TASK.value: "Someone in your team does it and marks it done.",
    ActivityKind.EMAIL_LEAD.value: "Sent automatically when the stage starts.",
    ActivityKind.NOTIFY_STAFF.value: "Sent automatically to your team.",
    ActivityKind.WEBHOOK.value: "A signed POST with the lead and journey to your URL.",
    ActivityKind.SET_STATUS.value: "Changes the lead's status automatically.",
    ActivityKind.ADD_TAG.value: "Adds a tag to the lead automatically.",
    ActivityKind.WAIT.value: "Holds the stage for a while before it can finish.",
    ActivityKind.WAIT_UNTIL.value: "Holds the stage until a condition holds, or a time is up.",
    ActivityKind.STAKEHOLDER_TASK.value: "Someone outside your team answers by an emailed link.",
}
TEMPLATE_HELP = (
    "Jinja text: {{ lead.first_name }}, {{ lead.email }}, {{ data.company }}, {{ journey_url }}."
)
WAIT_UNITS = ("minutes", "hours", "days")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActivityForm(FlaskForm):
    """The title every activity has; subclasses add their kind's settings."""

    kind: ClassVar[str]
    # Which form field each config key is read from and written to.
    config_fields: ClassVar[tuple[str, ...]] = ()

    title = StringField("Title", validators=[DataRequired(), Length(max=200)], filters=[_strip])

    def __init__(
        self, *args: Any, activity: Activity | None = None, options: dict | None = None, **kw: Any
    ) -> None:
        data = None
        if activity is not None:
            data = {"title": activity.title, **self.config_data(dict(activity.config or {}))}
            data["assignee"] = activity.assignee_id or ""
        super().__init__(*args, data=data, prefix=kw.pop("prefix", "activity"), **kw)
        self.activity = activity
        self.set_options(options or {})

    def set_options(self, options: dict[str, Any]) -> None:
        """Choices that come from the workspace (users, data points)."""

    def config_data(self, config: dict[str, Any]) -> dict[str, Any]:
        return {name: config.get(name) for name in self.config_fields}

    def config(self) -> dict[str, Any]:
        """The activity's settings as stored: empty values left out."""
        config = {}
        for name in self.config_fields:
            value = getattr(self, name).data
            if value not in (None, "", []):
                config[name] = value
        return config

    def assignee_id(self) -> str | None:
        return None

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
        for error in validate_activity_config(self.kind, self.config(), allow_private):
            self._place(error)
        return not self.form_errors and not any(self.errors.values())

    def _place(self, error: str) -> None:
        """Put a validator sentence on the field it names, else above the form."""
        name, _, message = error.partition(": ")
        if name in self.config_fields and message:
            field: Field = getattr(self, name)
            field.errors = [*field.errors, message[:1].upper() + message[1:] + "."]
        else:
            self.form_errors.append(error[:1].upper() + error[1:] + ".")


class LeadTaskForm(ActivityForm):
    kind = ActivityKind.LEAD_TASK.value
    config_fields = ("description", "data_points")
    description = TextAreaField(
        "Instructions for the lead", validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    data_points = CheckboxesField("Data points the lead fills in", choices=[])

    def set_options(self, options: dict[str, Any]) -> None:
        self.data_points.choices = [
            SelectChoice(name, label) for name, label in options.get("data_points", [])
        ]


class StaffTaskForm(ActivityForm):
    kind = ActivityKind.STAFF_TASK.value
    config_fields = ("description", "due_within_days")
    description = TextAreaField(
        "Instructions", validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    due_within_days = IntegerField(
        "Due within (days)", validators=[Optional(), NumberRange(min=1, max=MAX_DUE_WITHIN_DAYS)]
    )
    assignee = SelectField("Assigned to", validators=[Optional()], default="")

    def set_options(self, options: dict[str, Any]) -> None:
        users = [SelectChoice(user_id, name) for user_id, name in options.get("users", [])]
        self.assignee.choices = [SelectChoice("", "Nobody in particular"), *users]

    def assignee_id(self) -> str | None:
        return self.assignee.data or None


class EmailLeadForm(TemplateVariablesMixin, ActivityForm):
    kind = ActivityKind.EMAIL_LEAD.value
    config_fields = ("subject", "body")
    template_fields = ("subject", "body")
    subject = StringField("Subject", validators=[Optional(), Length(max=200)], filters=[_strip])
    body = TextAreaField("Body", validators=[Optional(), Length(max=20_000)])


class NotifyStaffForm(TemplateVariablesMixin, ActivityForm):
    kind = ActivityKind.NOTIFY_STAFF.value
    config_fields = ("to", "subject", "note")
    template_fields = ("subject",)
    to = EmailListField("To", default=list)
    subject = StringField("Subject", validators=[Optional(), Length(max=200)], filters=[_strip])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)], filters=[_strip])


class WebhookForm(ActivityForm):
    kind = ActivityKind.WEBHOOK.value
    config_fields = ("url",)
    url = StringField("URL", validators=[DataRequired(), Length(max=2000)], filters=[_strip])

    def _place(self, error: str) -> None:
        if error.startswith("the webhook URL"):  # worded as the webhook settings word it
            problem = error.removeprefix("the webhook URL ")
            self.url.errors = [*self.url.errors, f"The URL {problem}."]
        else:
            super()._place(error)


class SetStatusForm(ActivityForm):
    kind = ActivityKind.SET_STATUS.value
    config_fields = ("status",)
    # The workspace's managed statuses (Settings, Statuses), not free text.
    status = SelectField("New status", validators=[DataRequired()])

    def set_options(self, options: dict[str, Any]) -> None:
        statuses = [SelectChoice(key, name) for key, name in options.get("statuses", [])]
        self.status.choices = [SelectChoice("", "Choose a status"), *statuses]


class AddTagForm(ActivityForm):
    kind = ActivityKind.ADD_TAG.value
    config_fields = ("tag",)
    tag = StringField("Tag", validators=[DataRequired(), Length(max=50)], filters=[_strip])


class WaitForm(ActivityForm):
    kind = ActivityKind.WAIT.value
    amount = IntegerField(
        "Wait for", validators=[InputRequired(), NumberRange(min=1, max=100_000)], default=1
    )
    unit = SelectField("Unit", choices=[SelectChoice(u) for u in WAIT_UNITS], default="days")

    def config_data(self, config: dict[str, Any]) -> dict[str, Any]:
        for unit in reversed(WAIT_UNITS):
            if config.get(unit):
                return {"amount": config[unit], "unit": unit}
        return {}

    def config(self) -> dict[str, Any]:
        return {self.unit.data: self.amount.data} if self.amount.data else {}

    def _place(self, error: str) -> None:
        self.amount.errors = [*self.amount.errors, "At most ten years."]


from leadsite.backoffice.activity_forms_lead import LEAD_ACTIVITY_FORMS, LEAD_KINDS, lead_summary  # noqa: E402

KIND_LABELS |= {form.kind: form.label for form in LEAD_ACTIVITY_FORMS}
KIND_HELP |= {form.kind: form.help for form in LEAD_ACTIVITY_FORMS}
from leadsite.backoffice.funnel_stakeholder_form import (  # noqa: E402
    StakeholderTaskForm,
    stakeholder_summary,
)

FORMS: dict[str, type[ActivityForm]] = {
    form.kind: form
    for form in (
        LeadTaskForm,
        StaffTaskForm,
        EmailLeadForm,
        NotifyStaffForm,
        WebhookForm,
        SetStatusForm,
        AddTagForm,
        WaitForm,
        *LEAD_ACTIVITY_FORMS,
        StakeholderTaskForm,
    )
}


def summary(activity: Activity) -> str:
    """One line saying what an activity's settings are, for the stage list."""
    config = activity.config or {}
    match activity.kind:
        case ActivityKind.EMAIL_LEAD:
            return f"Subject: {config.get('subject') or activity.title}"
        case ActivityKind.NOTIFY_STAFF:
            to = config.get("to")
            to = ", ".join(to) if isinstance(to, list) else to
            return f"To: {to or 'the emails the funnel notifies'}"
        case ActivityKind.WEBHOOK:
            return f"POST {config.get('url', '')}"
        case ActivityKind.SET_STATUS:
            return f"Status → {config.get('status', '')}"
        case ActivityKind.ADD_TAG:
            return f"Tag: {config.get('tag', '')}"
        case ActivityKind.WAIT:
            parts = [f"{config[u]} {u}" for u in WAIT_UNITS if config.get(u)]
            return "Wait " + " ".join(parts) if parts else "No duration"
        case kind if kind in LEAD_KINDS:
            return lead_summary(kind, config)
        case ActivityKind.WAIT_UNTIL:
            return wait_until_summary(config, activity.stage)
        case ActivityKind.STAKEHOLDER_TASK:
            return stakeholder_summary(config)
        case ActivityKind.LEAD_TASK if config.get("data_points"):
            return "Fills in: " + ", ".join(map(str, config["data_points"]))
        case _:
            return str(config.get("description") or "")[:120]
