"""Back-office forms (Flask-WTF, CSRF bound to the session)."""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import phonenumbers
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from leadsite.data_points import journeys_using, name_taken
from leadsite.form_validators import EmailAddress
from leadsite.models import DataPoint, DataPointType


class EmptyForm(FlaskForm):
    """A CSRF token alone, for buttons that POST."""


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])
    remember = BooleanField("Keep me signed in on this device")


def _country_choices() -> list[tuple[str, str]]:
    return sorted(
        (code, code) for code in phonenumbers.SUPPORTED_REGIONS if code.isalpha() and len(code) == 2
    )


class WorkspaceForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired(), Length(max=120)])
    timezone = SelectField("Time zone", validators=[InputRequired()])
    default_country = SelectField("Default country for phone numbers", validators=[InputRequired()])
    sender_email = EmailField(
        "Sender email", validators=[Optional(), EmailAddress(), Length(max=254)]
    )
    default_origin_id = SelectField("Default API origin", validators=[Optional()])

    def __init__(
        self, *args: object, api_origins: list[tuple[str, str]] = (), **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = sorted(zoneinfo.available_timezones())
        self.default_country.choices = _country_choices()
        # (id, "funnel: origin") of the workspace's API origins; "" is none.
        self.default_origin_id.choices = [("", "None"), *api_origins]

    def populate_obj(self, obj: object) -> None:
        super().populate_obj(obj)
        obj.default_origin_id = self.default_origin_id.data or None  # type: ignore[attr-defined]


DATA_POINT_NAME = re.compile(r"[a-z][a-z0-9_]*")
DATA_POINT_TYPES = [
    SelectChoice(DataPointType.TEXT.value, "Text"),
    SelectChoice(DataPointType.NUMBER.value, "Number"),
    SelectChoice(DataPointType.BOOLEAN.value, "Yes / no"),
    SelectChoice(DataPointType.DATE.value, "Date"),
    SelectChoice(DataPointType.CHOICE.value, "Choice"),
    SelectChoice(DataPointType.EMAIL.value, "Email"),
    SelectChoice(DataPointType.URL.value, "URL"),
]
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 200


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class LinesField(TextAreaField):
    """A textarea of one value a line; its data is the list of non-blank lines, trimmed."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = [line.strip() for line in str(valuelist[0]).splitlines() if line.strip()]

    def _value(self) -> str:
        return "\n".join(self.data or [])


class DataPointForm(FlaskForm):
    # DataRequired: a name or label of spaces alone is stripped to nothing, so it is missing.
    name = StringField("Name", validators=[DataRequired(), Length(max=64)], filters=[_strip])
    label = StringField("Label", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    type = SelectField("Type", choices=DATA_POINT_TYPES, validators=[InputRequired()])
    choices = LinesField("Choices", default=list)
    help_text = StringField("Help text", validators=[Optional(), Length(max=300)], filters=[_strip])

    def __init__(
        self, *args: Any, workspace_id: str, editing: DataPoint | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, obj=editing, **kwargs)
        self.workspace_id = workspace_id
        self.editing = editing
        # Once journeys hold values of it, its name and type are fixed (as in the API): clients
        # and funnels refer to it by name, and the stored values were checked against the type.
        self.journeys = journeys_using(editing) if editing else 0
        if editing and self.journeys:
            self.type.choices = [c for c in DATA_POINT_TYPES if c.value == editing.type] or [
                SelectChoice(editing.type)
            ]

    @property
    def locked(self) -> bool:
        return self.journeys > 0

    def validate_name(self, field: Field) -> None:
        if self.editing and field.data == self.editing.name:
            return  # unchanged, even if the API created it with a freer name
        if self.locked:
            raise ValidationError(
                f"{self.journeys:,} journeys hold values of this data point, so its name can no "
                "longer change: API clients and funnels refer to it by name."
            )
        field.data = field.data.lower()
        if not DATA_POINT_NAME.fullmatch(field.data):
            raise ValidationError(
                "Use lower-case letters, digits and _, starting with a letter (like team_size)."
            )
        if name_taken(self.workspace_id, field.data, self.editing.id if self.editing else None):
            raise ValidationError(f"A data point named “{field.data}” already exists.")

    def validate_choices(self, field: Field) -> None:
        if self.type.data != DataPointType.CHOICE:
            return
        if len(field.data) < 2:
            raise ValidationError("List at least two choices, one per line.")
        if len(field.data) > MAX_CHOICES:
            raise ValidationError(f"At most {MAX_CHOICES} choices.")
        seen: set[str] = set()
        for choice in field.data:
            if len(choice) > MAX_CHOICE_LENGTH:
                raise ValidationError(
                    f"Each choice must be at most {MAX_CHOICE_LENGTH} characters."
                )
            if choice.lower() in seen:
                raise ValidationError(f"“{choice}” is listed twice (choices ignore case).")
            seen.add(choice.lower())
