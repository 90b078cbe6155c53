"""Activity forms for the lead's front-office activities: upload, sign, video, booking.

Registered in `funnel_activity_forms.FORMS`, which imports this module after its `ActivityForm`."""

from __future__ import annotations

from typing import Any

from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

# funnel_activity_forms imports this module once its ActivityForm is defined, to register these.
from leadsite.backoffice.funnel_activity_forms import ActivityForm
from leadsite.journeys.lead_activity_config import (
    DEFAULT_CONSENT,
    LEAD_KINDS,
    MAX_FILES,
    MAX_SIGN_TEXT,
)
from leadsite.journeys.uploads import DEFAULT_ACCEPT, MAX_UPLOAD_BYTES
from leadsite.models import ActivityKind

MAX_MB = MAX_UPLOAD_BYTES // 2**20


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ExtensionsField(StringField):
    """File extensions separated by commas or spaces (`pdf, .jpg`); its data is their list."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            raw = str(valuelist[0]).replace(",", " ")
            words = [item.strip().lower().lstrip(".") for item in raw.split()]
            self.data = list(dict.fromkeys(word for word in words if word))

    def _value(self) -> str:
        return ", ".join(self.data or [])


def _description() -> TextAreaField:
    return TextAreaField(
        "Instructions for the lead", validators=[Optional(), Length(max=2000)], filters=[_strip]
    )


def _https_url(label: str, required: bool) -> StringField:
    validators = [DataRequired() if required else Optional(), Length(max=2000)]
    return StringField(label, validators=validators, filters=[_strip])


class UploadForm(ActivityForm):
    kind = ActivityKind.UPLOAD.value
    label = "Lead uploads documents"
    help = "The lead uploads files on their journey page; staff download them from the lead page."
    config_fields = ("description", "accept", "max_mb", "min_files")
    description = _description()
    accept = ExtensionsField("Accepted file types", default=list)
    max_mb = IntegerField(
        "Largest file (MB)",
        validators=[Optional(), NumberRange(min=1, max=MAX_MB)],
        default=MAX_MB,
    )
    min_files = IntegerField(
        "Files needed", validators=[Optional(), NumberRange(min=1, max=MAX_FILES)], default=1
    )

    default_accept = ", ".join(DEFAULT_ACCEPT)


class SignForm(ActivityForm):
    kind = ActivityKind.SIGN.value
    label = "Lead signs a text"
    help = "The lead reads the text, types their name and ticks consent: kept as evidence."
    config_fields = ("text", "consent", "document_url")
    text = TextAreaField(
        "Text to sign",
        validators=[DataRequired(), Length(max=MAX_SIGN_TEXT)],
        filters=[lambda value: value.strip("\r\n") if isinstance(value, str) else value],
    )
    consent = StringField(
        "Consent sentence", validators=[Optional(), Length(max=500)], filters=[_strip]
    )
    document_url = _https_url("Document to read (link)", required=False)

    default_consent = DEFAULT_CONSENT


class VideoForm(ActivityForm):
    kind = ActivityKind.VIDEO.value
    label = "Lead watches a video"
    help = "Shown on the journey page (YouTube, Vimeo or a video file); done when marked watched."
    config_fields = ("url", "description")
    url = _https_url("Video address", required=True)
    description = _description()


class BookingForm(ActivityForm):
    kind = ActivityKind.BOOKING.value
    label = "Lead books a slot"
    help = "A link to your scheduler; done when the lead comes back from it, or you mark it done."
    config_fields = ("url", "description")
    url = _https_url("Scheduler address", required=True)
    description = _description()


LEAD_ACTIVITY_FORMS = (UploadForm, SignForm, VideoForm, BookingForm)


def lead_summary(kind: str, config: dict[str, Any]) -> str:
    """One line saying what a lead activity's settings are, for the stage list."""
    match kind:
        case ActivityKind.UPLOAD:
            accept = config.get("accept") or DEFAULT_ACCEPT
            needed = config.get("min_files") or 1
            size = config.get("max_mb") or MAX_MB
            return f"{needed} file(s): {', '.join(map(str, accept))}, {size} MB each"
        case ActivityKind.SIGN:
            return "Signs: " + " ".join(str(config.get("text") or "").split())[:100]
        case _:
            return str(config.get("url") or "")


__all__ = ["LEAD_ACTIVITY_FORMS", "LEAD_KINDS", "lead_summary"]
