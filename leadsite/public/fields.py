"""The fields of an origin's public form, read from what its form builder stored.

`Origin.form_fields` is a list of objects, shown in order:

- a standard field: `{"field": "email", "label": "Work email", "required": true, "help": "..."}`
  (`email`, `phone`, `first_name`, `last_name`, `address`, `unique_id`, `sms_opt_in`);
- a data point: `{"data_point": "company", "required": false, "widget": "radios"}`; its label
  and help text default to the data point's; a choice is a select unless `widget` is `radios`.

`Origin.settings` holds the rest of the page: `title`, `intro`, `submit_label`, and `consent`:
`{"text": "I agree to ...", "version": "2026-01", "required": false}`. An empty `form_fields`
gives first name, last name and email. The funnel's identifier is always on the form, required.

Staff translate these texts per language in `settings["translations"][lang]` (`title`, `intro`,
`submit_label`, `consent`, `success_message`, `fields`: labels by input name, and `help`: help
texts by input name); a page in
that language shows them, else the default texts. Our own labels go through Flask-Babel.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext

from leadsite import i18n
from leadsite.extensions import db
from leadsite.models import DataPoint, DataPointType, Funnel, Origin

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
DATA_PREFIX = "data."


@dataclass(frozen=True)
class FormField:
    """One input of the form: a lead column (`source` "lead") or a data point ("data")."""

    name: str  # the input's name: `email`, or `data.company` for a data point
    key: str  # the lead column or the data point's name
    source: str
    label: str
    input: str  # text, email, tel, number, date, url, textarea, select, radios, checkbox
    required: bool = False
    help: str | None = None
    choices: tuple[str, ...] = ()
    autocomplete: str | None = None

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


def form_settings(origin: Origin, funnel: Funnel) -> FormSettings:
    """Everything the page shows, in the language of the request: title, intro, fields in
    order, the consent checkbox."""
    settings = origin.settings if isinstance(origin.settings, dict) else {}
    texts = i18n.staff_texts(settings, i18n.current())
    labels = texts.get("fields") if isinstance(texts.get("fields"), dict) else {}
    helps = texts.get("help") if isinstance(texts.get("help"), dict) else {}
    fields = [
        replace(
            item,
            label=i18n.staff_text(labels, item.name, item.label),
            help=i18n.staff_text(helps, item.name, item.help),
        )
        for item in form_fields(origin, funnel)
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
    specs = origin.form_fields if isinstance(origin.form_fields, list) else []
    specs = [spec for spec in specs if isinstance(spec, dict)] or [
        {"field": name} for name in DEFAULT_FIELDS
    ]
    points = _data_points(origin.workspace_id, specs)
    result: list[FormField] = []
    for spec in specs:
        item = _standard(spec) if "field" in spec else data_point_field(spec, points)
        if item is None:
            log.warning("origin %s: form field %r ignored", origin.id, spec)
        elif all(other.name != item.name for other in result):
            result.append(item)
    return _with_identifier(result, funnel.identifier)


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


def _standard(spec: dict[str, Any]) -> FormField | None:
    name = spec.get("field")
    if name not in STANDARD_FIELDS:
        return None
    label, kind, autocomplete = STANDARD_FIELDS[name]
    return FormField(
        name=name,
        key=name,
        source="lead",
        label=_text(spec.get("label")) or str(label),
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


def _with_identifier(fields: list[FormField], identifier: str) -> list[FormField]:
    """The funnel's identifier is required: without it every registration would fail."""
    for index, item in enumerate(fields):
        if item.name == identifier:
            if not item.required:
                fields[index] = replace(item, required=True)
            return fields
    extra = _standard({"field": identifier, "required": True})
    return [*fields, extra] if extra else fields
