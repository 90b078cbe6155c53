"""Origin forms: a new origin, and an origin's settings with the builder of its signup form."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    FieldList,
    FormField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from leadsite import values
from leadsite.backoffice.form_builder import (
    DATA_PREFIX,
    MAX_CONSENT_TEXT,
    NEW_TYPES,
    STANDARD_FIELDS,
    FieldRowForm,
    available_fields,
    builder_rows,
    field_name,
    kind_of,
    question_type_ok,
    row_problems,
    row_spec,
    valid_key,
)
from leadsite.backoffice.form_builder import default_form as default_form
from leadsite.backoffice.form_builder_moves import add_row, rearrange, sorted_entries
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
IDENTIFIER_LABELS = {"email": "email", "phone": "phone number", "unique_id": "unique id"}
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


class OriginForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)], filters=[_strip])
    allowed_domains = LinesField("Allowed sites", default=list)
    accept_keyless = BooleanField("Accept calls without an API key from the allowed sites")
    rows = FieldList(FormField(FieldRowForm), max_entries=200)
    new_type = SelectField(
        "Type", choices=[SelectChoice(k, label) for k, label in NEW_TYPES.items()], default="text"
    )
    new_label = StringField(
        "Label or consent text", validators=[Length(max=MAX_CONSENT_TEXT)], filters=[_strip]
    )
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
        self.labels = available_fields(data_points)
        self.points = {DATA_PREFIX + point.name: point for point in data_points}
        # A question or consent is known by its rows: stored, or sent by the builder.
        for entry in self.rows:
            name = entry.form.name.data or ""
            if valid_key(name) and question_type_ok(entry.form):
                self.labels.setdefault(name, entry.form.label.data or name)
        self.known = set(self.labels)

    @property
    def sorted_rows(self) -> list[FieldRowForm]:
        """The rows as the builder lists them: the form's fields in order, then the others."""
        return [entry.form for entry in sorted_entries(list(self.rows))]

    def kind_label(self, name: str) -> str:
        """What a row is, said beside its label: `Email`, `Data point (choice)`, `Question`."""
        kind = kind_of(name)
        if kind == "data":
            point = self.points.get(name)
            return f"Data point, {point.type}" if point else "Data point"
        if kind == "standard":
            return "Standard field"
        row = next((r for r in self.sorted_rows if r.name.data == name), None)
        return NEW_TYPES.get(row.type.data if row else "consent", "Question").split(" (")[0]

    def builder_action(self, action: str) -> str | None:
        """Add, move or remove a field without saving; the name of the row to focus."""
        if action != "add":
            return rearrange(self.rows, action)
        label = (self.new_label.data or "").strip()
        if not label:
            self.new_label.errors = ["Write the label of the new field (for consent, its text)."]
            return None
        name = add_row(self.rows, self.new_type.data, label)
        self.labels[name] = label
        self.known.add(name)
        self.new_label.data = ""
        return name

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
        earlier: list[str] = []
        problems = False
        for row in self.sorted_rows:
            if not (row.shown.data and row.name.data in self.known):
                continue
            found = row_problems(row, earlier, identifier)
            if found:
                row.label.errors = [*row.label.errors, *found]
                problems = True
            earlier.append(row.name.data)
        if problems:
            raise ValidationError("Some fields need attention: see below.")
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
        """The builder's shown rows as `Origin.form_fields`, in their order."""
        return [
            row_spec(
                row, row.label.data or self.labels[row.name.data], self.points.get(row.name.data)
            )
            for row in self.sorted_rows
            if row.shown.data and row.name.data in self.known
        ]

    def preview_settings(self) -> dict[str, Any]:
        """The page texts as typed, in the shape of `Origin.settings`, for the preview."""
        consent_text = (self.consent_text.data or "").strip()
        consent = {
            "text": consent_text,
            "version": self.consent_version.data,
            "required": bool(self.consent_required.data),
        }
        return {
            "title": self.title.data,
            "intro": self.intro.data,
            "submit_label": self.submit_label.data,
            "consent": consent if consent_text else None,
        }

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
