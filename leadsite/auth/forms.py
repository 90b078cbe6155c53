"""Forms of the pages outside the back-office: forgot password, new password, invitations."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from leadsite.form_validators import EmailAddress
from leadsite.passwords import MIN_LENGTH


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[InputRequired(), EmailAddress(), Length(max=254)],
        filters=[_strip],
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[
            InputRequired(),
            Length(min=MIN_LENGTH, max=1024, message="Use %(min)d characters or more."),
        ],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[InputRequired(), EqualTo("password", message="The two passwords differ.")],
    )


class NewAccountForm(NewPasswordForm):
    """Accepting an invitation without an account: a name and the password to sign in with."""

    name = StringField("Your name", validators=[Optional(), Length(max=120)], filters=[_strip])
