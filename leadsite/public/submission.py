"""A public form as posted: what the lead typed, where they came from, and its `LeadInput`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from leadsite import i18n, values
from leadsite.models import UTM_FIELDS, utcnow
from leadsite.public.answers import answer
from leadsite.public.fields import FormField, FormSettings
from leadsite.public.form_logic import visible
from leadsite.registration import FieldError, JourneyDataInput, LeadInput, RegistrationContext
from leadsite.representations import iso

HONEYPOT = "website"
TOKEN = "_token"
CONSENT = "_consent"
STEP = "_step"  # the step of a multi-step form the lead sent
BACK = "_back"  # the name of its Back button
MAX_VALUE = 5000  # longer than any column; the pipeline reports the exact limits
MAX_UTM = 200
SHARE_PARAM = "kid"  # a referring lead's share code, as share URLs carry it
MAX_CODE = 16


def _url_or_none(raw: Any) -> str | None:
    """A URL worth recording; anything else is dropped, never an error the lead must fix."""
    try:
        return values.url(raw) if isinstance(raw, str) else None
    except values.Invalid:
        return None


@dataclass
class Attribution:
    """Where the lead came from: the page with the form, its referrer, UTM values, and the
    share code (`kid`) of the lead who sent them."""

    source_url: str | None = None
    referrer: str | None = None
    utm: dict[str, str] = field(default_factory=dict)
    referral_code: str | None = None

    @classmethod
    def read(cls, source_url: Any, referrer: Any, params: MultiDict[str, str]) -> Attribution:
        utm = {}
        for name in UTM_FIELDS:
            value = params.get(name)
            if value and value.strip():
                utm[name] = value.strip()[:MAX_UTM]
        url = _url_or_none(source_url)
        # The share link's `kid`: on the page itself, or on the page that embeds the form.
        code = params.get(SHARE_PARAM) or (_query_value(url, SHARE_PARAM) if url else None)
        code = code.strip()[:MAX_CODE] if code and code.strip() else None
        return cls(url, _url_or_none(referrer), utm, code)

    @classmethod
    def from_form(cls, form: MultiDict[str, str]) -> Attribution:
        params = MultiDict({name: form.get(f"_{name}", "") for name in UTM_FIELDS})
        params[SHARE_PARAM] = form.get(f"_{SHARE_PARAM}", "")
        return cls.read(form.get("_source_url"), form.get("_referrer"), params)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The hidden inputs that carry this through the form's POST."""
        pairs = [
            ("_source_url", self.source_url or ""),
            ("_referrer", self.referrer or ""),
            (f"_{SHARE_PARAM}", self.referral_code or ""),
        ]
        return [(name, value) for name, value in pairs if value] + [
            (f"_{name}", value) for name, value in self.utm.items()
        ]


def _query_value(url: str, name: str) -> str | None:
    parts = values.url_parts(url)
    query = parts.query if parts is not None else ""
    return next((v for k, v in parse_qsl(query) if k.lower() == name), None)


@dataclass
class Submission:
    values: dict[str, str]  # by input name, as typed; checked boxes are "on"
    consent: bool
    token: str
    honeypot: str
    attribution: Attribution
    step: int = 0  # the step it was sent from
    back: bool = False  # the lead asked for the step before
    shown: set[str] = field(default_factory=set)  # the inputs its answers ask for

    @classmethod
    def read(cls, form: MultiDict[str, str], settings: FormSettings) -> Submission:
        typed = {}
        for item in settings.fields:
            raw = form.get(item.name)
            if raw is not None:
                typed[item.name] = raw[:MAX_VALUE]
        shown = visible(settings.fields, typed)
        step = form.get(STEP, "")
        return cls(
            # An answer to a question its condition hides is dropped, whatever the browser sent.
            values={name: value for name, value in typed.items() if name in shown},
            consent=form.get(CONSENT) == "on",
            token=form.get(TOKEN, ""),
            honeypot=form.get(HONEYPOT, "").strip(),
            attribution=Attribution.from_form(form),
            step=min(int(step), settings.step_count - 1) if step.isdigit() else 0,
            back=BACK in form,
            shown=shown,
        )

    def given(self, item: FormField) -> bool:
        return bool(self.values.get(item.name, "").strip())

    def asked(self, settings: FormSettings, step: int | None = None) -> list[FormField]:
        """The fields these answers ask for: all of them, or those on one step."""
        return [
            item
            for item in settings.fields
            if item.name in self.shown and (step is None or item.step == step)
        ]


def missing(
    submission: Submission,
    settings: FormSettings,
    step: int | None = None,
    region: str | None = None,
) -> list[FieldError]:
    """Required fields left empty, consent that must be given, and answers that do not fit their
    question's type, by input name: of the whole form, or of one step."""
    errors = []
    for item in submission.asked(settings, step):
        if item.required and not submission.given(item):
            errors.append(FieldError(item.name, _required_message(item)))
        elif item.source == "custom" and submission.given(item):
            try:
                answer(item, submission.values[item.name], region)
            except values.Invalid as error:
                errors.append(FieldError(item.name, str(error)))
    last = step is None or step == settings.step_count - 1
    if last and settings.consent and settings.consent.required and not submission.consent:
        errors.append(FieldError(CONSENT, _("Tick the box to give your consent: it is required")))
    return errors


def _required_message(item: FormField) -> str:
    if item.input == "consent":
        return _("Tick the box to give your consent: it is required")
    return ask_for(item.label, choose=item.input in ("select", "radios"))


def ask_for(label: str, choose: bool = False) -> str:
    """`Enter your work email` (`Choose your plan`) for a field left empty. A label that starts
    with the sentence's own possessive (`Your accountant's email`, `Votre e-mail`) gives it up
    rather than say it twice."""

    def sentence(field: str) -> str:
        if choose:
            return _("Choose your %(field)s", field=field)
        return _("Enter your %(field)s", field=field)

    words = sentence("\x00").split("\x00", 1)[0].split()
    field = field_label(label)
    possessive = words[-1] + " " if words else ""
    if len(possessive) > 1 and field.lower().startswith(possessive.lower()):
        field = field[len(possessive) :]
    return sentence(field)


def field_label(label: str) -> str:
    """A label as it stands inside a sentence: `Work email` -> `work email`, but `URL of your
    site` stays as it is, and so does every German one (German capitalises its nouns)."""
    if i18n.current() == "de" or (len(label) > 1 and label[1].isupper()):
        return label
    return label[:1].lower() + label[1:]


def lead_input(
    submission: Submission,
    settings: FormSettings,
    source: str,
    context: RegistrationContext,
    region: str | None = None,
) -> tuple[LeadInput, list[str]]:
    """The `LeadInput` of a submission, and the input names of its journey data in order.
    Only the fields its answers ask for count; `region` reads phone numbers of questions."""
    lead = LeadInput(source=source, source_url=submission.attribution.source_url)
    lead.language = i18n.current()  # the language the form was shown in
    lead.referral_code = submission.attribution.referral_code
    lead.utm = dict(submission.attribution.utm)
    data_names: list[str] = []
    for item in submission.asked(settings):
        raw = submission.values.get(item.name)
        if item.source == "consent":
            if raw == "on":
                _give_consent(lead, item.label, item.version or "1", context)
            continue
        value: Any = (raw == "on") if item.input == "checkbox" else raw
        if item.input != "checkbox" and (raw is None or not raw.strip()):
            continue
        if item.source == "lead":
            setattr(lead, item.key, value)
        elif item.source == "custom":
            try:
                lead.custom_fields[item.key] = answer(item, raw, region)
            except values.Invalid:
                continue  # reported by `missing`, on the field
        else:
            lead.journey_data.append(JourneyDataInput(item.key, value))
            data_names.append(item.name)
    if settings.consent and submission.consent:
        _give_consent(lead, settings.consent.text, settings.consent.version, context)
    return lead, data_names


def _give_consent(lead: LeadInput, text: str, version: str, context: RegistrationContext) -> None:
    """The lead's consent record: what they agreed to, when, and from where."""
    lead.opt_in = True
    lead.consent = {
        "text": text,
        "version": version,
        "given_at": iso(utcnow()),
        "ip": context.ip,
        "user_agent": context.user_agent,
    }


def errors_by_input(
    errors: list[FieldError], settings: FormSettings, data_names: list[str]
) -> tuple[dict[str, str], list[str]]:
    """Put the pipeline's errors on the inputs they concern; the rest are for the whole form."""
    by_name = {item.name: item for item in settings.fields}
    on_fields: dict[str, str] = {}
    general: list[str] = []
    for error in errors:
        name = _input_for(error.field, by_name, data_names)
        message = error.message
        if name in by_name and by_name[name].source == "data" and message.startswith("Value "):
            message = f"{by_name[name].label} {message.removeprefix('Value ')}"
        if name is None:
            general.append(message)
        elif name not in on_fields:
            on_fields[name] = message
    return on_fields, general


def _input_for(field_name: str, by_name: dict[str, FormField], data_names: list[str]) -> str | None:
    if field_name in by_name or field_name == CONSENT:
        return field_name
    if field_name in ("opt_in", "consent"):
        consents = [name for name, item in by_name.items() if item.source == "consent"]
        return consents[0] if consents else CONSENT
    if field_name == "country_code" and "phone" in by_name:
        return "phone"
    if field_name.startswith("journey_data[") and field_name.endswith("].value"):
        index = field_name[len("journey_data[") : -len("].value")]
        if index.isdigit() and int(index) < len(data_names):
            return data_names[int(index)]
    return None
