"""The fields of an origin's public form, read from what its form builder stored.

`Origin.form_fields` is a list of objects, shown in order:

- a standard field: `{"field": "email", "label": "Work email", "required": true, "help": "..."}`
  (`email`, `phone`, `first_name`, `last_name`, `address`, `unique_id`, `sms_opt_in`);
- a data point: `{"data_point": "company", "required": false, "widget": "radios"}`; its label
  and help text default to the data point's; a choice is a select unless `widget` is `radios`;
- a question of the form's own, kept in the lead's custom fields: `{"custom": "size", "type":
  "choice", "options": ["1-10", "11+"], "widget": "radios", "label": "Team size"}` (types in
  `CUSTOM_INPUTS`);
- a consent checkbox: `{"consent": "terms", "label": "I agree to ...", "version": "2026-01",
  "required": true}`, kept as the lead's consent record when ticked.

Any of them may carry `"when": {"field": "custom.size", "op": "equals", "value": "11+"}` (shown
only when an earlier field's answer fits, see leadsite.public.form_logic) and `"step": true` (a
new step of a multi-step form starts at it).

`Origin.settings` holds the rest of the page: `title`, `intro`, `submit_label`, and `consent`:
`{"text": "I agree to ...", "version": "2026-01", "required": false}`. An empty `form_fields`
gives first name, last name and email. The funnel's identifier is always on the form, required.

Staff translate these texts per language in `settings["translations"][lang]` (`title`, `intro`,
`submit_label`, `consent`, `success_message`, `fields`: labels by input name, and `help`: help
texts by input name); a page in
that language shows them, else the default texts. Our own labels go through Flask-Babel.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import force_locale, lazy_gettext
from flask_babel import gettext as _

from leadsite import i18n
from leadsite.extensions import db
from leadsite.models import DataPoint, DataPointType, Funnel, Origin
from leadsite.public.form_logic import Condition, condition

log = logging.getLogger(__name__)

# name: (label, input type, autocomplete)
STANDARD_FIELDS: dict[str, tuple[Any, str, str | None]] = {
    "first_name": (lazy_gettext("First name"), "text", "given-name"),
    "last_name": (lazy_gettext("Last name"), "text", "family-name"),
    "email": (lazy_gettext("Email"), "email", "email"),
    "phone": (lazy_gettext("Phone"), "tel", "tel"),
    "address": (lazy_gettext("Address"), "textarea", "street-address"),
    "unique_id": (lazy_gettext("Member number"), "text", "off"),
    "sms_opt_in": (lazy_gettext("Send me text messages about this"), "checkbox", None),
}
DEFAULT_FIELDS = ("first_name", "last_name", "email")
DATA_POINT_INPUTS: dict[str, str] = {
    DataPointType.TEXT: "text",
    DataPointType.NUMBER: "number",
    DataPointType.BOOLEAN: "checkbox",
    DataPointType.DATE: "date",
    DataPointType.CHOICE: "select",
    DataPointType.EMAIL: "email",
    DataPointType.URL: "url",
}
# A question's type: its input (a choice's may be radios instead, by `widget`).
CUSTOM_INPUTS: dict[str, str] = {
    "text": "text",
    "email": "email",
    "phone": "tel",
    "number": "number",
    "choice": "select",
    "checkbox": "checkbox",
    "date": "date",
}
DATA_PREFIX = "data."
CUSTOM_PREFIX = "custom."
CONSENT_PREFIX = "consent."
MAX_OPTIONS = 50


@dataclass(frozen=True)
class FormField:
    """One input of the form: a lead column (`source` "lead"), a data point ("data"), a question
    kept in the lead's custom fields ("custom") or a consent checkbox ("consent")."""

    name: str  # the input's name: `email`, `data.company`, `custom.size`, `consent.terms`
    key: str  # the lead column, the data point's name, the custom field's or the consent's key
    source: str
    label: str
    input: str  # text, email, tel, number, date, url, textarea, select, radios, checkbox, consent
    required: bool = False
    help: str | None = None
    choices: tuple[str, ...] = ()
    autocomplete: str | None = None
    condition: Condition | None = None
    step: int = 0  # the step of a multi-step form it is on, from 0
    version: str | None = None  # a consent's

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")


@dataclass(frozen=True)
class Consent:
    text: str
    version: str
    required: bool


@dataclass(frozen=True)
class FormSettings:
    title: str
    intro: str
    submit_label: str
    consent: Consent | None
    fields: list[FormField] = field(default_factory=list)

    @property
    def step_count(self) -> int:
        return max((item.step for item in self.fields), default=0) + 1

    def on_step(self, step: int) -> list[FormField]:
        return [item for item in self.fields if item.step == step]


def form_settings(origin: Origin, funnel: Funnel) -> FormSettings:
    """Everything the page shows, in the language of the request: title, intro, fields in
    order, the consent checkbox."""
    return settings_of(origin, origin.form_fields, origin.settings, funnel)


def settings_of(
    origin: Origin, specs: Any, settings: Any, funnel: Funnel, warn: bool = True
) -> FormSettings:
    """The form these stored (or, for the builder's preview, not yet saved) values make, with
    the staff's texts in the request's language; `warn` logs the fields it cannot show (a
    preview's are half-written, not broken)."""
    settings = settings if isinstance(settings, dict) else {}
    texts = i18n.staff_texts(settings, i18n.current())
    labels = texts.get("fields") if isinstance(texts.get("fields"), dict) else {}
    helps = texts.get("help") if isinstance(texts.get("help"), dict) else {}
    fields = [
        replace(
            item,
            label=i18n.staff_text(labels, item.name, item.label),
            help=i18n.staff_text(helps, item.name, item.help),
        )
        for item in fields_of(origin, specs, funnel, warn)
    ]
    consent = _consent(settings.get("consent"))
    if consent is not None:
        consent = replace(consent, text=i18n.staff_text(texts, "consent", consent.text))
    return FormSettings(
        title=i18n.staff_text(texts, "title", _text(settings.get("title")) or funnel.name),
        intro=i18n.staff_text(texts, "intro", _text(settings.get("intro"))),
        submit_label=i18n.staff_text(
            texts, "submit_label", _text(settings.get("submit_label")) or _("Sign up")
        ),
        consent=consent,
        fields=fields,
    )


def form_fields(origin: Origin, funnel: Funnel) -> list[FormField]:
    return fields_of(origin, origin.form_fields, funnel)


def fields_of(origin: Origin, specs: Any, funnel: Funnel, warn: bool = True) -> list[FormField]:
    specs = specs if isinstance(specs, list) else []
    specs = [spec for spec in specs if isinstance(spec, dict)] or [
        {"field": name} for name in DEFAULT_FIELDS
    ]
    points = _data_points(origin.workspace_id, specs)
    result: list[FormField] = []
    step = 0
    for spec in specs:
        item = _field(spec, points)
        if item is None:
            if warn:
                log.warning("origin %s: form field %r ignored", origin.id, spec)
        elif all(other.name != item.name for other in result):
            step += 1 if result and spec.get("step") is True else 0
            earlier = {other.name: other for other in result}
            result.append(replace(item, step=step, condition=condition(spec.get("when"), earlier)))
    return _with_identifier(result, funnel.identifier)


def _field(spec: dict[str, Any], points: dict[str, DataPoint]) -> FormField | None:
    if "field" in spec:
        return _standard(spec)
    if "custom" in spec:
        return custom_field(spec)
    if "consent" in spec:
        return consent_field(spec)
    return data_point_field(spec, points)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _consent(raw: Any) -> Consent | None:
    if not isinstance(raw, dict) or not _text(raw.get("text")):
        return None
    return Consent(
        text=_text(raw.get("text")),
        version=_text(raw.get("version")) or "1",
        required=raw.get("required") is True,
    )


def _data_points(workspace_id: str, specs: list[dict[str, Any]]) -> dict[str, DataPoint]:
    names = [spec["data_point"] for spec in specs if isinstance(spec.get("data_point"), str)]
    if not names:
        return {}
    rows = db.session.scalars(
        db.select(DataPoint).filter(
            DataPoint.workspace_id == workspace_id, DataPoint.name.in_(names)
        )
    )
    return {point.name: point for point in rows}


@functools.cache
def _english_label(name: str) -> str:
    """A standard field's default label in English, once a process (force_locale costs 0.2 ms)."""
    with force_locale("en"):
        return str(STANDARD_FIELDS[name][0])


def _standard(spec: dict[str, Any]) -> FormField | None:
    name = spec.get("field")
    if name not in STANDARD_FIELDS:
        return None
    label, kind, autocomplete = STANDARD_FIELDS[name]
    written = _text(spec.get("label"))
    # The builder and a new origin's default form write the English label out: unchanged, it is
    # the default, which reads in the lead's language.
    if written == _english_label(name):
        written = ""
    return FormField(
        name=name,
        key=name,
        source="lead",
        label=written or str(label),
        input=kind,
        required=spec.get("required") is True and kind != "checkbox",
        help=_text(spec.get("help")) or None,
        autocomplete=autocomplete,
    )


def data_point_field(spec: dict[str, Any], points: dict[str, DataPoint]) -> FormField | None:
    point = points.get(spec.get("data_point"))  # type: ignore[arg-type]
    if point is None:
        return None
    kind = DATA_POINT_INPUTS.get(point.type, "text")
    if kind == "select" and spec.get("widget") == "radios":
        kind = "radios"
    return FormField(
        name=DATA_PREFIX + point.name,
        key=point.name,
        source="data",
        label=_text(spec.get("label")) or point.label,
        input=kind,
        required=spec.get("required") is True and kind != "checkbox",
        help=_text(spec.get("help")) or point.help_text or None,
        choices=tuple(point.choices or ()),
        autocomplete="off" if kind in ("text", "number") else None,
    )


def custom_field(spec: dict[str, Any]) -> FormField | None:
    key, kind = spec.get("custom"), spec.get("type")
    if not isinstance(key, str) or not key or kind not in CUSTOM_INPUTS:
        return None
    options = spec.get("options") if kind == "choice" else []
    choices = tuple(_text(o) for o in options or [] if _text(o))[:MAX_OPTIONS]
    if kind == "choice" and not choices:
        return None
    widget = CUSTOM_INPUTS[kind]
    if widget == "select" and spec.get("widget") == "radios":
        widget = "radios"
    return FormField(
        name=CUSTOM_PREFIX + key,
        key=key,
        source="custom",
        label=_text(spec.get("label")) or key.replace("_", " ").capitalize(),
        input=widget,
        required=spec.get("required") is True and widget != "checkbox",
        help=_text(spec.get("help")) or None,
        choices=choices,
        autocomplete="off" if widget in ("text", "number") else None,
    )


def consent_field(spec: dict[str, Any]) -> FormField | None:
    """A checkbox beside staff-written text; ticked, it is the lead's consent record."""
    key, text = spec.get("consent"), _text(spec.get("label"))
    if not isinstance(key, str) or not key or not text:
        return None
    return FormField(
        name=CONSENT_PREFIX + key,
        key=key,
        source="consent",
        label=text,
        input="consent",
        required=spec.get("required") is True,
        help=_text(spec.get("help")) or None,
        version=_text(spec.get("version")) or "1",
    )


def _with_identifier(fields: list[FormField], identifier: str) -> list[FormField]:
    """The funnel's identifier is required: without it every registration would fail."""
    for index, item in enumerate(fields):
        if item.name == identifier:
            fields[index] = replace(item, required=True, condition=None)
            return fields
    extra = _standard({"field": identifier, "required": True})
    last_step = fields[-1].step if fields else 0
    return [*fields, replace(extra, step=last_step)] if extra else fields
