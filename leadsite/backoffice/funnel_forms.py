"""Forms of the funnel editor: the funnel's settings, with times in the workspace's zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from leadsite import values
from leadsite.models import Funnel, FunnelStatus, Identifier, OnDuplicate, in_zone

STATUS_CHOICES = [
    SelectChoice(FunnelStatus.DRAFT.value, "Draft: not open to registrations"),
    SelectChoice(FunnelStatus.ACTIVE.value, "Active: open to registrations"),
    SelectChoice(FunnelStatus.ENDED.value, "Ended: closed"),
]
IDENTIFIER_CHOICES = [
    SelectChoice(Identifier.EMAIL.value, "Email address"),
    SelectChoice(Identifier.PHONE.value, "Phone number"),
    SelectChoice(Identifier.UNIQUE_ID.value, "Unique id (sent by your systems)"),
]
DUPLICATE_CHOICES = [
    SelectChoice(OnDuplicate.UPDATE.value, "Update the existing lead"),
    SelectChoice(OnDuplicate.REJECT.value, "Refuse the registration (409)"),
]
MAX_NOTIFY = 20
MAX_CONFIRM_HOURS = 720  # 30 days
CONFIRM_HOURS_MESSAGE = "Enter a whole number of hours from 1 to 720."
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def to_local(value: datetime | None, timezone: str) -> datetime | None:
    """A stored UTC time as the naive wall-clock time of the workspace, for a datetime input."""
    return in_zone(value, values.zone(timezone)).replace(tzinfo=None) if value else None


def to_utc(value: datetime | None, timezone: str) -> datetime | None:
    """A wall-clock time typed in the workspace's time zone, as an aware UTC time."""
    return in_zone(value.replace(tzinfo=values.zone(timezone)), UTC) if value else None


class EmailListField(TextAreaField):
    """Addresses separated by commas or new lines; its data is the list of them, trimmed."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            raw = str(valuelist[0]).replace(",", "\n")
            self.data = [item.strip() for item in raw.splitlines() if item.strip()]

    def _value(self) -> str:
        return "\n".join(self.data or [])


class FunnelForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    description = TextAreaField(
        "Description", validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    status = SelectField("Status", choices=STATUS_CHOICES, validators=[InputRequired()])
    starts_at = DateTimeLocalField("Opens at", format=DATETIME_FORMAT, validators=[Optional()])
    ends_at = DateTimeLocalField("Closes at", format=DATETIME_FORMAT, validators=[Optional()])
    identifier = SelectField(
        "Leads are identified by", choices=IDENTIFIER_CHOICES, validators=[InputRequired()]
    )
    on_duplicate = SelectField(
        "When someone registers again", choices=DUPLICATE_CHOICES, validators=[InputRequired()]
    )
    double_opt_in = BooleanField("Double opt-in: leads confirm their email address by a link")
    confirm_within_hours = IntegerField(
        "Hours to confirm",
        default=72,
        # Left out (an older form, a script), the funnel keeps its hours.
        validators=[Optional(), NumberRange(1, MAX_CONFIRM_HOURS, CONFIRM_HOURS_MESSAGE)],
    )
    notify_emails = EmailListField("Emails to notify", default=list)

    def __init__(self, *args: Any, timezone: str, funnel: Funnel | None = None, **kw: Any) -> None:
        data = None
        if funnel is not None:
            data = {
                "name": funnel.name,
                "description": funnel.description,
                "status": funnel.status,
                "starts_at": to_local(funnel.starts_at, timezone),
                "ends_at": to_local(funnel.ends_at, timezone),
                "identifier": funnel.identifier,
                "on_duplicate": funnel.on_duplicate,
                "double_opt_in": funnel.double_opt_in,
                "confirm_within_hours": funnel.confirm_within_hours,
                "notify_emails": list(funnel.notify_emails or []),
            }
        super().__init__(*args, data=data, **kw)
        self.timezone = timezone

    def validate_ends_at(self, field: Field) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError("Closes at must be after Opens at.")

    def validate_notify_emails(self, field: Field) -> None:
        if len(field.data) > MAX_NOTIFY:
            raise ValidationError(f"At most {MAX_NOTIFY} addresses.")
        addresses, wrong = [], []
        for item in field.data:
            try:
                address = values.email(item)
            except values.Invalid:
                wrong.append(item)
                continue
            if address and address not in addresses:
                addresses.append(address)
        if wrong:
            raise ValidationError(f"Not an email address: {', '.join(wrong)}.")
        field.data = addresses

    def apply(self, funnel: Funnel) -> None:
        """Copy the form onto the funnel; times are typed in the workspace's time zone."""
        funnel.name = self.name.data
        funnel.description = self.description.data or None
        funnel.status = self.status.data
        funnel.starts_at = to_utc(self.starts_at.data, self.timezone)
        funnel.ends_at = to_utc(self.ends_at.data, self.timezone)
        funnel.identifier = self.identifier.data
        funnel.on_duplicate = self.on_duplicate.data
        funnel.double_opt_in = self.double_opt_in.data
        if self.confirm_within_hours.data is not None:
            funnel.confirm_within_hours = self.confirm_within_hours.data
        funnel.notify_emails = list(self.notify_emails.data)
