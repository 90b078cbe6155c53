"""Origin forms: a new origin, and an origin's settings with the builder of its signup form."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from leadsite import values
from leadsite.backoffice.forms import LinesField
from leadsite.backoffice.funnel_domains import domain_problem
from leadsite.backoffice.funnel_origin_mapping import mapping_text, parse_mapping_text
from leadsite.models import DataPoint, Funnel, Origin, OriginKind

KIND_LABELS = {
    OriginKind.API.value: "API endpoint",
    OriginKind.PAGE.value: "Hosted registration page",
    OriginKind.EMBED.value: "Embeddable form",
    OriginKind.BACKOFFICE.value: "Back-office “New lead”",
    OriginKind.IMPORT.value: "CSV import",
}
FORM_KINDS = (OriginKind.PAGE.value, OriginKind.EMBED.value)
DOMAIN_KINDS = (OriginKind.API.value, OriginKind.EMBED.value)
STANDARD_FIELDS = {
    "email": "Email",
    "phone": "Phone",
    "first_name": "First name",
    "last_name": "Last name",
    "address": "Address",
    "unique_id": "Unique id",
}
IDENTIFIER_LABELS = {"email": "email", "phone": "phone number", "unique_id": "unique id"}
DATA_PREFIX = "data."
MAX_DOMAINS = 50


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class NewOriginForm(FlaskForm):
    """Adding an origin asks for its kind and name; the rest is set on its own page."""

    kind = SelectField(
        "New origin",
        choices=[SelectChoice(kind, label) for kind, label in KIND_LABELS.items()],
        default=OriginKind.API.value,
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])

    def __init__(self, *args: Any, **kw: Any) -> None:
        # Prefixed: the edit page holds the settings form, whose fields have the same names.
        super().__init__(*args, prefix=kw.pop("prefix", "new-origin"), **kw)


class FieldRowForm(Form):
    """One line of the form builder: a standard field or a data point."""

    name = HiddenField()
    shown = BooleanField("Show")
    label = StringField("Label", validators=[Optional(), Length(max=120)], filters=[_strip])
    required = BooleanField("Required")
    help = StringField("Help", validators=[Optional(), Length(max=300)], filters=[_strip])
    order = IntegerField("Order", validators=[Optional(), NumberRange(min=0, max=999)])


def field_name(spec: Any) -> str | None:
    """The builder's name of a stored form field: `email`, or `data.company` for a data point.

    Reads the public pages' shape, `{"field": "email"}` / `{"data_point": "company"}`, and the
    `{"name": "data.company"}` that builders before it stored beside it.
    """
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("field"), str):
        return spec["field"]
    if isinstance(spec.get("data_point"), str):
        return DATA_PREFIX + spec["data_point"]
    if isinstance(spec.get("name"), str):
        return spec["name"]
    return None


def form_field(name: str, label: str, required: bool, help_text: str | None) -> dict[str, Any]:
    """One entry of `Origin.form_fields` in the shape leadsite.public.fields reads."""
    if name.startswith(DATA_PREFIX):
        entry: dict[str, Any] = {"data_point": name.removeprefix(DATA_PREFIX)}
    else:
        entry = {"field": name}
    return {**entry, "label": label, "required": required, "help": help_text}


def default_form(identifier: str) -> list[dict[str, Any]]:
    """A new page or embed origin's form: first and last name, and the funnel's identifier."""
    names = ["first_name", "last_name", identifier if identifier in STANDARD_FIELDS else "email"]
    return [form_field(n, STANDARD_FIELDS[n], n == names[-1], None) for n in names]


def builder_rows(origin: Origin, data_points: list[DataPoint]) -> list[dict[str, Any]]:
    """Every field the form can show: the origin's own, in its order, then the others."""
    available = {name: label for name, label in STANDARD_FIELDS.items()}
    available.update({f"{DATA_PREFIX}{p.name}": p.label for p in data_points})
    # Nothing stored: the public form shows its defaults, so the builder starts from them.
    stored = origin.form_fields or default_form(origin.funnel.identifier)
    saved = [(field_name(f), f) for f in stored]
    rows = [
        {
            "name": name,
            "label": field.get("label") or available[name],
            "required": field.get("required") is True,
            "help": field.get("help") or "",
            "shown": True,
            "order": index + 1,
        }
        for index, (name, field) in enumerate((n, f) for n, f in saved if n in available)
    ]
    taken = {row["name"] for row in rows}
    rows += [
        {"name": name, "label": label, "shown": False, "required": False, "help": "", "order": None}
        for name, label in available.items()
        if name not in taken
    ]
    return rows


class OriginForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    allowed_domains = LinesField("Allowed sites", default=list)
    accept_keyless = BooleanField("Accept calls without an API key from the allowed sites")
    rows = FieldList(FormField(FieldRowForm), max_entries=200)
    title = StringField("Title", validators=[Optional(), Length(max=200)], filters=[_strip])
    intro = TextAreaField("Introduction", validators=[Optional(), Length(max=2000)])
    submit_label = StringField(
        "Button text", validators=[Optional(), Length(max=60)], filters=[_strip]
    )
    consent_text = TextAreaField("Consent text", validators=[Optional(), Length(max=2000)])
    consent_version = StringField(
        "Consent version", validators=[Optional(), Length(max=40)], filters=[_strip]
    )
    consent_required = BooleanField("Consent must be given to register")
    redirect_url = StringField(
        "Redirect after registering", validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    success_message = TextAreaField(
        "Success message", validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    mapping = TextAreaField("Field mapping", validators=[Optional(), Length(max=20_000)])
    try_payload = TextAreaField("Payload", validators=[Optional(), Length(max=65_536)])

    def __init__(self, *args: Any, origin: Origin, data_points: list[DataPoint], **kw: Any) -> None:
        settings = origin.settings or {}
        consent = settings.get("consent") if isinstance(settings.get("consent"), dict) else {}
        data = {
            "name": origin.name,
            "allowed_domains": list(origin.allowed_domains or []),
            "accept_keyless": bool(settings.get("accept_keyless")),
            "rows": builder_rows(origin, data_points),
            "title": settings.get("title"),
            "intro": settings.get("intro"),
            "submit_label": settings.get("submit_label"),
            "consent_text": settings.get("consent_text") or consent.get("text"),
            "consent_version": settings.get("consent_version") or consent.get("version"),
            "consent_required": bool(settings.get("consent_required") or consent.get("required")),
            "redirect_url": origin.redirect_url,
            "success_message": origin.success_message,
            "mapping": mapping_text(origin.mapping),
        }
        if "formdata" not in kw and request.method == "POST":
            # Rows are told apart by their hidden name, not their place: the stored ones must
            # not fill in a row the browser sent without some input.
            data.pop("rows")
        super().__init__(*args, data=data, **kw)
        self.origin = origin
        self.parsed_mapping: dict[str, str] = {}
        self.funnel: Funnel = origin.funnel
        self.labels = {row["name"]: row["label"] for row in builder_rows(origin, data_points)}
        self.known = set(self.labels)

    @property
    def has_form(self) -> bool:
        return self.origin.kind in FORM_KINDS

    @property
    def has_domains(self) -> bool:
        return self.origin.kind in DOMAIN_KINDS

    @property
    def has_keyless(self) -> bool:
        return self.origin.kind == OriginKind.API

    def validate_allowed_domains(self, field: Field) -> None:
        if not self.has_domains:
            return
        if len(field.data) > MAX_DOMAINS:
            raise ValidationError(f"At most {MAX_DOMAINS} sites.")
        problems = [p for p in (domain_problem(item) for item in field.data) if p]
        if problems:
            raise ValidationError("; ".join(problems) + ".")
        field.data = list(dict.fromkeys(item.lower().rstrip("/") for item in field.data))

    def validate_redirect_url(self, field: Field) -> None:
        try:
            values.url(field.data)
        except values.Invalid as error:
            raise ValidationError(f"The address {error}.") from None

    def validate_rows(self, field: Field) -> None:
        if not self.has_form:
            return
        chosen = self.form_fields()
        if not chosen:
            raise ValidationError("Show at least one field.")
        names = {field_name(item): item for item in chosen}
        identifier = self.funnel.identifier
        needed = names.get(identifier)
        if identifier in STANDARD_FIELDS and (needed is None or not needed["required"]):
            raise ValidationError(
                f"This funnel identifies leads by {IDENTIFIER_LABELS[identifier]}: show "
                f"{STANDARD_FIELDS[identifier]} and make it required."
            )

    @property
    def has_mapping(self) -> bool:
        return self.origin.kind == OriginKind.API.value

    def validate_mapping(self, field: Field) -> None:
        if not self.has_mapping:
            return
        self.parsed_mapping, problems = parse_mapping_text(field.data or "")
        if problems:
            raise ValidationError("; ".join(problems) + ".")

    def validate_consent_required(self, field: Field) -> None:
        if self.has_form and field.data and not (self.consent_text.data or "").strip():
            raise ValidationError("Write the consent text people agree to.")

    def form_fields(self) -> list[dict[str, Any]]:
        """The builder's shown rows as `Origin.form_fields`, sorted by their order."""
        rows = [
            (row.order.data if row.order.data is not None else 999, index, row)
            for index, entry in enumerate(self.rows)
            if (row := entry.form).shown.data and row.name.data in self.known
        ]
        return [
            form_field(
                row.name.data,
                row.label.data or self.labels[row.name.data],
                bool(row.required.data),
                row.help.data or None,
            )
            for _, _, row in sorted(rows, key=lambda item: item[:2])
        ]

    def apply(self) -> None:
        """Copy the form onto the origin (only what its kind uses)."""
        origin = self.origin
        origin.name = self.name.data
        if self.has_domains:
            origin.allowed_domains = list(self.allowed_domains.data)
        if self.has_keyless:
            # Read by the KickoffLabs dialect: browser forms post without a key, rate-limited.
            accept = bool(self.accept_keyless.data)
            origin.settings = {**(origin.settings or {}), "accept_keyless": accept}
        if self.has_mapping:
            origin.mapping = self.parsed_mapping or None
        if self.has_form:
            origin.form_fields = self.form_fields()
            consent_text = (self.consent_text.data or "").strip() or None
            consent = {
                "text": consent_text,
                "version": self.consent_version.data or None,
                "required": bool(self.consent_required.data),
            }
            origin.settings = {
                **(origin.settings or {}),
                "title": self.title.data or None,
                "intro": (self.intro.data or "").strip() or None,
                "submit_label": self.submit_label.data or None,
                "consent_text": consent["text"],
                "consent_version": consent["version"],
                "consent_required": consent["required"],
                # The same, in the shape the public pages read (leadsite/public/fields.py).
                "consent": consent if consent_text else None,
            }
            origin.redirect_url = self.redirect_url.data or None
            origin.success_message = self.success_message.data or None
