"""WTForms validators that check with `values`, so a back-office form words a problem as the
public forms and the API do ("Email needs an @ sign. Enter an address like name@example.com.")."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import ValidationError

from leadsite import values


class EmailAddress:
    """The field holds an email address (syntax only, no DNS), or nothing."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        try:
            values.email(field.data)
        except values.Invalid as error:
            raise ValidationError(f"{field.label.text} {error}") from None
