"""The form builder's rows: the fields a form may show, and what staff set on each (its order,
label, type, options, condition and step), read from and written to `Origin.form_fields`.

The builder is one ordinary form: moving, adding and removing a field post it whole and get it
back changed (leadsite.backoffice.form_builder_moves; nothing is saved until "Save origin"), so
it works without JavaScript; static/js/form-builder.js moves rows in the page instead (drag and
drop, Alt+arrow keys, the Move buttons).
"""

from __future__ import annotations

import re
from typing import Any

from wtforms import BooleanField, Form, HiddenField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from leadsite.backoffice.forms import LinesField
from leadsite.models import DataPoint, DataPointType, Origin
from leadsite.public.fields import CONSENT_PREFIX, CUSTOM_INPUTS, CUSTOM_PREFIX, MAX_OPTIONS
from leadsite.public.form_logic import OPERATORS

STANDARD_FIELDS = {
    "email": "Email",
    "phone": "Phone",
    "first_name": "First name",
    "last_name": "Last name",
    "address": "Address",
    "unique_id": "Member number",  # the public form's default, which is translated
}
DATA_PREFIX = "data."
# What "Add a field" offers: the questions' types, and a consent checkbox.
NEW_TYPES = {
    "text": "Text",
    "email": "Email address",
    "phone": "Phone number",
    "number": "Number",
    "choice": "Choice (list or radio buttons)",
    "checkbox": "Checkbox",
    "date": "Date",
    "consent": "Consent text (a box to tick)",
}
OPERATOR_LABELS = {
    "equals": "is",
    "one_of": "is one of",
    "checked": "is ticked",
    "not_empty": "is answered",
}
WIDGETS = {"select": "A list to choose from", "radios": "Radio buttons"}
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_LABEL = 120
MAX_CONSENT_TEXT = 2000
LAST = 999


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class FieldRowForm(Form):
    """One field of the form builder: a standard field, a data point, a question or a consent."""

    name = HiddenField()
    type = HiddenField()  # a question's type (`NEW_TYPES`); empty for the others
    shown = BooleanField("Show")
    label = StringField(
        "Label", validators=[Optional(), Length(max=MAX_CONSENT_TEXT)], filters=[_strip]
    )
    required = BooleanField("Required")
    help = StringField("Help text", validators=[Optional(), Length(max=300)], filters=[_strip])
    order = IntegerField(
        "Order", widget=HiddenInput(), validators=[Optional(), NumberRange(min=0, max=LAST)]
    )
    options = LinesField("Options, one a line", default=list)
    widget = StringField("Shown as")
    version = StringField("Version", validators=[Optional(), Length(max=40)], filters=[_strip])
    when_field = StringField("Show only if")
    when_op = StringField("Condition")
    when_value = StringField("Answer", validators=[Optional(), Length(max=500)], filters=[_strip])
    step = BooleanField("Start a new step here")

    def validate_label(self, field: Any) -> None:
        if self.type.data != "consent" and len(field.data or "") > MAX_LABEL:
            field.errors.append(f"Field cannot be longer than {MAX_LABEL} characters.")


def kind_of(name: str) -> str:
    """`standard`, `data`, `custom` (a question) or `consent`, by the name's prefix."""
    for prefix, kind in (
        (DATA_PREFIX, "data"),
        (CUSTOM_PREFIX, "custom"),
        (CONSENT_PREFIX, "consent"),
    ):
        if name.startswith(prefix):
            return kind
    return "standard"


def field_name(spec: Any) -> str | None:
    """The builder's name of a stored form field: `email`, `data.company`, `custom.size`.

    Reads the public pages' shape, `{"field": "email"}` / `{"data_point": "company"}`, and the
    `{"name": "data.company"}` that builders before it stored beside it.
    """
    if not isinstance(spec, dict):
        return None
    for key, prefix in (
        ("field", ""),
        ("data_point", DATA_PREFIX),
        ("custom", CUSTOM_PREFIX),
        ("consent", CONSENT_PREFIX),
        ("name", ""),
    ):
        if isinstance(spec.get(key), str):
            return prefix + spec[key]
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


def available_fields(data_points: list[DataPoint]) -> dict[str, str]:
    """The standard fields and data points a form may show, with their labels."""
    available = dict(STANDARD_FIELDS)
    available.update({f"{DATA_PREFIX}{p.name}": p.label for p in data_points})
    return available


def builder_rows(origin: Origin, data_points: list[DataPoint]) -> list[dict[str, Any]]:
    """Every field the form can show: the origin's own, in its order, then the others."""
    available = available_fields(data_points)
    # Nothing stored: the public form shows its defaults, so the builder starts from them.
    stored = origin.form_fields or default_form(origin.funnel.identifier)
    rows = []
    for spec in stored:
        name = field_name(spec)
        if name is None or not (name in available or kind_of(name) in ("custom", "consent")):
            continue
        when = spec.get("when") if isinstance(spec.get("when"), dict) else {}
        value = when.get("value")
        rows.append(
            {
                "name": name,
                "type": spec.get("type") or ("consent" if kind_of(name) == "consent" else ""),
                "label": spec.get("label") or available.get(name, ""),
                "required": spec.get("required") is True,
                "help": spec.get("help") or "",
                "shown": True,
                "order": len(rows) + 1,
                "options": list(spec.get("options") or []),
                "widget": spec.get("widget") or "select",
                "version": spec.get("version") or "",
                "when_field": when.get("field") or "",
                "when_op": when.get("op") or "equals",
                "when_value": ", ".join(value) if isinstance(value, list) else value or "",
                "step": spec.get("step") is True,
            }
        )
    taken = {row["name"] for row in rows}
    rows += [
        {"name": name, "label": label, "shown": False, "order": None}
        for name, label in available.items()
        if name not in taken
    ]
    return rows


def row_spec(row: FieldRowForm, label: str, point: DataPoint | None) -> dict[str, Any]:
    """A builder row as an entry of `Origin.form_fields`; optional keys only when set, so a
    plain field keeps the shape other readers know."""
    name = row.name.data
    kind = kind_of(name)
    key = name.split(".", 1)[1] if "." in name else name
    spec: dict[str, Any]
    if kind == "consent":
        spec = {"consent": key, "label": label, "version": row.version.data or "1"}
        spec.update(required=bool(row.required.data), help=row.help.data or None)
    elif kind == "custom":
        spec = {"custom": key, "type": row.type.data}
        spec.update(form_field(name, label, bool(row.required.data), row.help.data or None))
        spec.pop("field")
        if row.type.data == "choice":
            spec["options"] = list(row.options.data or [])[:MAX_OPTIONS]
    else:
        spec = form_field(name, label, bool(row.required.data), row.help.data or None)
    choice = kind == "custom" and row.type.data == "choice"
    choice = choice or (point is not None and point.type == DataPointType.CHOICE)
    if choice and row.widget.data == "radios":
        spec["widget"] = "radios"
    if row.when_field.data:
        spec["when"] = {"field": row.when_field.data, "op": row.when_op.data}
        if row.when_op.data == "one_of":
            spec["when"]["value"] = [v.strip() for v in row.when_value.data.split(",") if v.strip()]
        elif row.when_op.data == "equals":
            spec["when"]["value"] = row.when_value.data
    if row.step.data:
        spec["step"] = True
    return spec


def row_problems(row: FieldRowForm, earlier: list[str], identifier: str) -> list[str]:
    """What is wrong with a shown row that its fields' own validators cannot see."""
    problems = []
    kind, name = kind_of(row.name.data), row.name.data
    if kind in ("custom", "consent") and not (row.label.data or "").strip():
        problems.append(
            "Write the text of the consent." if kind == "consent" else "Give it a label."
        )
    if kind == "custom" and row.type.data == "choice" and not row.options.data:
        problems.append("Write its options, one a line.")
    if kind == "custom" and row.type.data == "checkbox" and row.required.data:
        problems.append(
            "A checkbox cannot be required: for a box that must be ticked, add a consent text."
        )
    if row.when_field.data:
        if name == identifier:
            problems.append("The funnel's identifier is always asked: it cannot have a condition.")
        elif row.when_field.data not in earlier:
            problems.append("A condition can only look at a shown field above it.")
        elif row.when_op.data not in OPERATORS:
            problems.append("Choose how the answer is compared.")
        elif row.when_op.data in ("equals", "one_of") and not row.when_value.data:
            problems.append("Write the answer it depends on.")
    return problems


def valid_key(name: str) -> bool:
    kind = kind_of(name)
    return kind in ("custom", "consent") and bool(KEY.match(name.split(".", 1)[1]))


def question_type_ok(row: FieldRowForm) -> bool:
    if kind_of(row.name.data) == "custom":
        return row.type.data in CUSTOM_INPUTS
    return True
