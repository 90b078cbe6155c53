"""Forms of the settings pages: users, API keys and webhook endpoints."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from leadsite import values
from leadsite.backoffice.funnel_activity_forms import CheckboxesField
from leadsite.models import Role
from leadsite.outbox import http
from leadsite.outbox.event_types import WEBHOOK_EVENTS

ROLE_CHOICES = [
    SelectChoice(Role.MANAGER.value, "Manager"),
    SelectChoice(Role.ADMINISTRATOR.value, "Administrator"),
]
EVENT_LABELS = {
    "lead.created": "A lead registers for the first time",
    "lead.updated": "A lead is updated (registers again, or is edited)",
    "lead.confirmed": "A lead confirms their email (double opt-in)",
    "lead.opted_out": "A lead opts out",
    "journey.created": "A journey starts",
    "journey.stage_entered": "A journey enters a stage",
    "journey.step_completed": "A step of a journey is completed",
    "journey.completed": "A journey is completed",
}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class UserForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[InputRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[_strip],
    )
    name = StringField("Name", validators=[Optional(), Length(max=120)], filters=[_strip])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.MANAGER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ApiKeyForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=120)],
        filters=[_strip],
        description="Say where it is used, e.g. “Website backend”.",
    )


class WebhookForm(FlaskForm):
    url = StringField("URL", validators=[DataRequired(), Length(max=2000)], filters=[_strip])
    description = StringField(
        "Description", validators=[Optional(), Length(max=200)], filters=[_strip]
    )
    events = CheckboxesField(
        "Events",
        choices=[SelectChoice(name, f"{EVENT_LABELS[name]} ({name})") for name in WEBHOOK_EVENTS],
        default=list(WEBHOOK_EVENTS),
    )
    active = BooleanField("Active: deliver events to it", default=True)

    def validate_url(self, field: Field) -> None:
        try:
            parsed = values.parse_url(field.data)
        except values.Invalid as error:
            raise ValidationError(f"The URL {error}.") from None
        refused = None if current_app.config["WEBHOOK_ALLOW_PRIVATE"] else http.refusal(parsed)
        if refused:
            raise ValidationError(f"The URL must be a public address: {refused}.")

    def validate_events(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one event.")
