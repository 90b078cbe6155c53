"""Forms of the lead pages: "New lead" and the lead page's sections; the pipeline checks values."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, Field, SelectField, StringField, TelField
from wtforms.validators import InputRequired

from leadsite.models import DataPoint, DataPointType, Funnel
from leadsite.registration import FieldError

# Every value is checked by the registration pipeline (or `leads.update_lead`), which reports
# every problem at once in its own words; the forms only carry values and show those errors.
INDEXED = re.compile(r"\[\d+\].*$")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _text(label: str, **kwargs: Any) -> StringField:
    return StringField(label, filters=[_strip], **kwargs)


class ContactForm(FlaskForm):
    first_name = _text("First name", render_kw={"autocomplete": "off"})
    last_name = _text("Last name", render_kw={"autocomplete": "off"})
    email = EmailField("Email", filters=[_strip], render_kw={"autocomplete": "off"})
    phone = TelField("Phone", filters=[_strip], render_kw={"autocomplete": "off"})
    unique_id = _text("Unique id")
    address = _text("Address")

    duplicate_of: str | None = None  # the lead that already holds an identifier typed here


class StatusForm(FlaskForm):
    # One of the workspace's managed statuses (choices set per lead: `status_choices`); the
    # update's own check refuses any other value on this field.
    status = SelectField("Status", validators=[InputRequired()], validate_choice=False)
    tags = _text("Tags")


class ConsentForm(FlaskForm):
    opt_in = BooleanField("Opted in to email")
    sms_opt_in = BooleanField("Opted in to SMS")


class NewLeadForm(ContactForm):
    funnel = SelectField("Funnel", validators=[InputRequired()])
    status = _text("Status", render_kw={"list": "lead-statuses", "placeholder": "new"})
    tags = _text("Tags", render_kw={"placeholder": "vip, webinar"})
    opt_in = BooleanField("Opted in to email")
    # Sent by the "Update" button offered when a lead already has an identifier typed here:
    # without it, staff are asked first (a registration would overwrite that lead's name).
    update_existing = BooleanField()

    point_fields: list[tuple[DataPoint, Field]]
    duplicate_name: str = ""  # the lead that has an identifier typed here, as staff know it
    may_update: bool = False  # the funnel updates known leads, so staff may choose to

    # Fields shown folded under "More" unless they hold a value or an error.
    MORE = ("unique_id", "address", "status", "tags", "opt_in")

    @property
    def more_open(self) -> bool:
        fields = [self[name] for name in self.MORE] + [f for _, f in self.point_fields]
        return any(f.errors or (f.data not in (None, "", False)) for f in fields)


def _point_field(point: DataPoint) -> Field:
    label, help_text = point.label, point.help_text
    match point.type:
        case DataPointType.BOOLEAN:
            return SelectField(
                label, choices=[("", "—"), ("true", "Yes"), ("false", "No")], description=help_text
            )
        case DataPointType.CHOICE:
            choices = [("", "—"), *((c, c) for c in point.choices)]
            return SelectField(label, choices=choices, description=help_text)
        case DataPointType.DATE:
            return _text(label, render_kw={"type": "date"}, description=help_text)
        case DataPointType.NUMBER:
            return _text(label, render_kw={"inputmode": "decimal"}, description=help_text)
        case DataPointType.EMAIL | DataPointType.URL:
            return _text(label, render_kw={"type": point.type}, description=help_text)
        case _:
            return _text(label, description=help_text)


def new_lead_form(funnels: list[Funnel], points: list[DataPoint], **kwargs: Any) -> NewLeadForm:
    """The New lead form with the workspace's open funnels and a field per data point."""
    fields = {f"point_{point.id}": _point_field(point) for point in points}
    form_class = type("NewLeadWithDataForm", (NewLeadForm,), fields)
    form: NewLeadForm = form_class(**kwargs)
    form.funnel.choices = [(f.id, f.name) for f in funnels]
    if len(funnels) == 1 and not form.funnel.data:
        form.funnel.data = funnels[0].id
    form.point_fields = [(point, form[f"point_{point.id}"]) for point in points]
    return form


def add_errors(
    form: FlaskForm, errors: list[FieldError], aliases: dict[str, str] | None = None
) -> None:
    """Show the pipeline's errors on their fields; those of no field go above the form.

    `tags[3]` lands on `tags`; `aliases` maps other names (`country_code`, `journey_data[0].value`)
    to the field that holds them.
    """
    aliases = {"country_code": "phone", **(aliases or {})}
    for error in errors:
        name = aliases.get(error.field) or aliases.get(INDEXED.sub("", error.field))
        name = name or INDEXED.sub("", error.field)
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(error.message)
        else:
            field.errors = [*field.errors, error.message]


def duplicate_message(identifier: str) -> str:
    return f"Another lead already has this {identifier.replace('_', ' ')}."
