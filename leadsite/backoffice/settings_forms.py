"""Forms of the settings pages: the workspace, users, API keys and webhook endpoints."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from leadsite.backoffice.funnel_activity_forms import CheckboxesField
from leadsite.backoffice.settings_places import countries, time_zone_problem
from leadsite.form_validators import EmailAddress
from leadsite.models import Origin, Role, Scope
from leadsite.outbox.event_types import WEBHOOK_EVENTS
from leadsite.outbox.webhook_urls import webhook_url_problem

ROLE_CHOICES = [
    SelectChoice(Role.MANAGER.value, "Manager"),
    SelectChoice(Role.ADMINISTRATOR.value, "Administrator"),
]
SCOPE_LABELS = {
    Scope.LEADS_WRITE: "Register, edit and erase leads (leads:write)",
    Scope.LEADS_READ: "Read leads, journeys, funnels and data points (leads:read)",
    Scope.ADMIN: "Manage data points, webhooks and deliveries (admin)",
}
SECRET, PUBLISHABLE = "secret", "publishable"
EVENT_LABELS = {
    "lead.created": "A lead registers for the first time",
    "lead.updated": "A lead is updated (registers again, or is edited)",
    "lead.confirmed": "A lead confirms their email (double opt-in)",
    "lead.opted_out": "A lead opts out",
    "journey.created": "A journey starts",
    "journey.stage_entered": "A journey enters a stage",
    "journey.step_completed": "A step of a journey is completed",
    "journey.completed": "A journey is completed",
    "journey.cancelled": "A journey is cancelled (double opt-in not confirmed in time)",
}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class WorkspaceForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    # Typed with suggestions (a datalist): works without JavaScript and searches as one types.
    timezone = StringField("Time zone", validators=[InputRequired()], filters=[_strip])
    default_country = SelectField("Default country for phone numbers", validators=[InputRequired()])
    sender_email = EmailField(
        "Sender email", validators=[Optional(), EmailAddress(), Length(max=254)]
    )
    default_origin_id = SelectField("Default API origin", validators=[Optional()])

    def __init__(
        self, *args: object, api_origins: list[tuple[str, str]] = (), **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.default_country.choices = countries()
        # (id, "funnel: origin") of the workspace's API origins; "" is none.
        self.default_origin_id.choices = [("", "None"), *api_origins]

    def validate_timezone(self, field: Field) -> None:
        if (problem := time_zone_problem(field.data)) is not None:
            raise ValidationError(problem)

    def populate_obj(self, obj: object) -> None:
        super().populate_obj(obj)
        obj.default_origin_id = self.default_origin_id.data or None  # type: ignore[attr-defined]


class UserForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[InputRequired(), EmailAddress(), Length(max=254)],
        filters=[_strip],
    )
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.MANAGER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class ApiKeyForm(FlaskForm):
    """A secret key with its scopes, or a publishable key with its origins."""

    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=120)],
        filters=[_strip],
        description="Say where it is used, e.g. “Website backend”.",
    )
    kind = RadioField(
        "Kind",
        choices=[
            SelectChoice(SECRET, "Secret key (lsk_…): for your servers; never in a web page"),
            SelectChoice(
                PUBLISHABLE,
                "Publishable key (lpk_…): for web pages; only registers leads, "
                "through the origins below, from their allowed sites",
            ),
        ],
        default=SECRET,
    )
    scopes = CheckboxesField(
        "Scopes (secret key)",
        choices=[SelectChoice(scope.value, SCOPE_LABELS[scope]) for scope in Scope],
        default=[scope.value for scope in Scope],
    )
    origin_ids = CheckboxesField("API origins (publishable key)", choices=[])

    def __init__(self, *args: Any, origins: list[Origin] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.origins = {origin.id: origin for origin in origins or []}
        self.origin_ids.choices = [
            SelectChoice(origin.id, f"{origin.name} ({origin.funnel.name})")
            for origin in origins or []
        ]

    def validate_scopes(self, field: Field) -> None:
        if self.kind.data == SECRET and not field.data:
            raise ValidationError("Choose at least one scope.")

    def validate_origin_ids(self, field: Field) -> None:
        if self.kind.data != PUBLISHABLE:
            return
        if not field.data:
            raise ValidationError("Choose the API origins it registers through.")
        chosen = [self.origins[i] for i in field.data if i in self.origins]
        closed = [origin.name for origin in chosen if not origin.allowed_domains]
        if closed:
            raise ValidationError(
                f"{', '.join(closed)}: no allowed sites yet, so no web page could use the key. "
                "List them in the origin's settings first."
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
        problem = webhook_url_problem(field.data, current_app.config["WEBHOOK_ALLOW_PRIVATE"])
        if problem:
            raise ValidationError(f"The URL {problem}.")

    def validate_events(self, field: Field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one event.")
