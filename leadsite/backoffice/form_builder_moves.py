"""Moving, adding and removing the form builder's rows: what its buttons do without JavaScript
(static/js/form-builder.js moves rows in the page instead). Nothing here saves."""

from __future__ import annotations

import re
from typing import Any

from wtforms import FieldList

from leadsite.backoffice.form_builder import LAST, kind_of
from leadsite.public.fields import CONSENT_PREFIX, CUSTOM_PREFIX


def sorted_entries(entries: list[Any]) -> list[Any]:
    """The rows in the order the form shows them: by their order, then as sent."""
    return [
        entry
        for _, _, entry in sorted(
            (
                entry.form.order.data if entry.form.order.data is not None else LAST,
                index,
                entry,
            )
            for index, entry in enumerate(entries)
        )
    ]


def new_row(kind: str, label: str, taken: set[str]) -> dict[str, Any]:
    """A question (or consent) added by "Add a field": its name made from its label."""
    prefix = CONSENT_PREFIX if kind == "consent" else CUSTOM_PREFIX
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30] or kind
    base = base if base[0].isalpha() else f"q_{base}"[:30]
    name, counter = prefix + base, 2
    while name in taken:
        name, counter = f"{prefix}{base}_{counter}", counter + 1
    return {
        "name": name,
        "type": kind,
        "label": label,
        "shown": True,
        "required": kind == "consent",
        "options": [],
        "widget": "select",
        "version": "1" if kind == "consent" else "",
        "when_op": "equals",
    }


def rearrange(rows: FieldList, action: str) -> str | None:
    """Move a row up or down, or remove a question (`up:email`, `remove:custom.size`); the
    rows are numbered again in their new order. The name of the row to keep the focus on."""
    verb, _, name = action.partition(":")
    entries = sorted_entries(list(rows))
    index = next((i for i, e in enumerate(entries) if e.form.name.data == name), None)
    if index is not None and verb in ("up", "down"):
        other = index + (-1 if verb == "up" else 1)
        if 0 <= other < len(entries):
            entries[index], entries[other] = entries[other], entries[index]
    elif index is not None and verb == "remove" and kind_of(name) in ("custom", "consent"):
        del entries[index]
        rows.entries = entries
        name = ""
    _number(entries)
    return name or None


def add_row(rows: FieldList, kind: str, label: str) -> str:
    """Add a question (or consent) at the end; its name."""
    row = new_row(kind, label, {entry.form.name.data for entry in rows})
    entries = sorted_entries(list(rows))
    rows.append_entry(row)
    _number([*entries, rows.entries[-1]])
    return row["name"]


def _number(entries: list[Any]) -> None:
    for position, entry in enumerate(entries, start=1):
        entry.form.order.data = position
