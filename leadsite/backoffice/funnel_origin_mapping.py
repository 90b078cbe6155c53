"""An API origin's mapping as staff write it (`target = expression` lines), and its "try it"
box: the lead a pasted payload would make, checked as `register()` checks, written nowhere."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import current_app, g, request

from leadsite.api.mapping import check_mapping, map_payload
from leadsite.models import Funnel
from leadsite.registration import FieldError, ValidationFailed
from leadsite.registration.validate import clean
from leadsite.values import load_json

MAX_PAYLOAD_CHARS = 64 * 1024


def mapping_text(mapping: dict[str, str] | None) -> str:
    """The stored mapping as the form shows it: one `target = expression` a line."""
    return "\n".join(f"{target} = {expression}" for target, expression in (mapping or {}).items())


def parse_mapping_text(text: str) -> tuple[dict[str, str], list[str]]:
    """Lines of `target = expression` (blank lines and `#` comments skipped) as a checked
    mapping, and every problem found, each naming its line."""
    raw: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        target, equals, expression = line.partition("=")
        if not equals:
            problems.append(f"Line {number}: write target = expression")
            continue
        raw[target.strip()] = expression.strip()
    mapping, errors = check_mapping(raw)
    problems += [f"{e.field.removeprefix('mapping.')}: {e.message}" for e in errors]
    return mapping, problems


@dataclasses.dataclass
class Trial:
    """What the "try it" box shows: the lead the payload would make, or why it would not."""

    fields: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    errors: list[FieldError] = dataclasses.field(default_factory=list)
    problem: str | None = None  # the payload or the mapping could not be read at all

    @property
    def valid(self) -> bool:
        return not (self.errors or self.problem)


def _shown(value: Any) -> bool:
    return value not in (None, "", [], {}, False)


def lead_fields(mapped: Any) -> list[tuple[str, Any]]:
    """The LeadInput's given fields, in its order, for display."""
    shown = []
    for item in dataclasses.fields(mapped):
        value = getattr(mapped, item.name)
        if item.name == "journey_data":
            value = {d.name: d.value for d in value}
        elif dataclasses.is_dataclass(value):
            value = {k: v for k, v in dataclasses.asdict(value).items() if _shown(v)}
        if _shown(value):
            shown.append((item.name, value))
    return shown


def try_mapping(funnel: Funnel, mapping: dict[str, str], payload: str) -> Trial:
    """Map the payload, then validate it as `register()` would, writing nothing."""
    if not payload.strip():
        return Trial(problem="Paste a payload: the JSON the sender posts.")
    try:
        parsed = load_json(payload)
    except ValueError as error:
        return Trial(problem=f"The payload is not JSON: {error}")
    mapped = map_payload(mapping, parsed, request)
    if mapped.lead_input is None:
        return Trial(errors=mapped.errors)
    trial = Trial(fields=lead_fields(mapped.lead_input), errors=list(mapped.errors))
    try:
        allow_private = current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False)
        clean(mapped.lead_input, g.workspace, funnel, allow_private)
    except ValidationFailed as error:
        trial.errors += error.errors
    return trial
