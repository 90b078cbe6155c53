"""Back-office forms (Flask-WTF, CSRF bound to the session)."""

from __future__ import annotations

import zoneinfo

import phonenumbers
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Length, Optional


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
        "Sender email", validators=[Optional(), Email(check_deliverability=False), Length(max=254)]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = sorted(zoneinfo.available_timezones())
        self.default_country.choices = _country_choices()
