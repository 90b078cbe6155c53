"""CSV import, the rows: a row as the pipeline's input, the preview, and the report."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

from leadsite.extensions import db
from leadsite.leads.export import safe_cell, unguarded_cell
from leadsite.leads.imports.upload import rows
from leadsite.models import (
    UTM_FIELDS,
    Funnel,
    Lead,
    LeadImport,
    LeadImportRejection,
    OnDuplicate,
    Workspace,
)
from leadsite.registration import (
    FieldError,
    JourneyDataInput,
    LeadInput,
    ValidationFailed,
)
from leadsite.registration.validate import IDENTIFIERS, clean
from leadsite.values import parse_json, unstorable

if TYPE_CHECKING:
    from leadsite.registration.batch import Outcome

PREVIEW_ROWS = 5
SHOWN_REJECTIONS = 1000
INDEXED = re.compile(r"\[\d+\].*$")


@dataclass
class RowInput:
    lead_input: LeadInput
    columns: dict[str, str]  # the pipeline's field names -> the column that gave them
    problems: list[str] = field(default_factory=list)
    label: str = ""


def custom_key(header: str) -> str:
    """`Favourite colour` -> `favourite_colour`."""
    return re.sub(r"[^a-z0-9]+", "_", header.lower()).strip("_") or "field"


def _value(raw: str) -> str:
    # Our export guards what a spreadsheet would run as a formula (`'=...`): read it as it was.
    return unguarded_cell(raw.strip())


def row_input(columns: list[str], mapping: list[str], cells: list[str]) -> RowInput:
    """One row as the pipeline's input; empty cells are left out (they change nothing)."""
    given: dict[str, str] = {}
    names: dict[str, str] = {}
    custom: dict[str, Any] = {}
    data: list[JourneyDataInput] = []
    problems: list[str] = []
    for header, target, raw in zip(columns, mapping, cells, strict=False):
        value = _value(raw)
        if not target or not value:
            continue
        if target.startswith("data:"):
            names[f"journey_data[{len(data)}]"] = header
            data.append(JourneyDataInput(target[5:], value))
        elif target == "custom":
            custom[custom_key(header)] = value
        elif target == "custom_fields":
            try:
                parsed = parse_json(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and not unstorable(parsed):
                custom = {**parsed, **custom}
            else:
                problems.append(f'{header}: not a JSON object such as {{"plan": "pro"}}')
        else:
            given[target] = value
            names[target] = header
    first, last = given.get("first_name"), given.get("last_name")
    if given.get("name") and not (first or last):
        first, _, last = given["name"].partition(" ")
        names["first_name"] = names["last_name"] = names["name"]
    lead_input = LeadInput(
        **{
            name: given.get(name)
            for name in (
                "email",
                "phone",
                "unique_id",
                "address",
                "status",
                "tags",
                "country_code",
                "source",
                "source_url",
                "opt_in",
                "sms_opt_in",
            )
        },
        first_name=first or None,
        last_name=last or None,
        custom_fields=custom,
        utm={name: given[name] for name in UTM_FIELDS if name in given},
        journey_data=data,
    )
    label = given.get("email") or given.get("phone") or " ".join(filter(None, (first, last)))
    return RowInput(lead_input, names, problems, label or given.get("unique_id", ""))


def reasons(errors: list[FieldError], columns: dict[str, str]) -> list[str]:
    """The pipeline's errors, each prefixed with the column it came from."""
    result = []
    for error in errors:
        header = columns.get(error.field) or columns.get(INDEXED.sub("", error.field))
        if header is None and error.field.startswith("journey_data["):
            header = columns.get(error.field.split("]")[0] + "]")
        # "Phone: Phone is not valid" says it twice; "Tel.: Phone is not valid" does not.
        named = header and not error.message.lower().startswith(header.lower())
        result.append(f"{header}: {error.message}" if named else error.message)
    return result


@dataclass
class PreviewRow:
    number: int
    values: list[tuple[str, str]]  # (target, value) of the mapped columns
    verdict: str  # new, update, rejected
    problems: list[str]


def _existing(workspace_id: str, funnel: Funnel, cleaned: Any) -> str | None:
    for name in (funnel.identifier, *IDENTIFIERS):
        value = cleaned.identifier(name)
        if value:
            found = db.session.scalar(
                db.select(Lead.id).filter_by(workspace_id=workspace_id, **{name: value})
            )
            if found:
                return found
    return None


def preview(
    job: LeadImport, mapping: list[str], funnel: Funnel | None, workspace: Workspace
) -> list[PreviewRow]:
    """The first rows as they would be imported, checked like the pipeline checks them (nothing
    is written): a new lead, an update of an existing one, or refused and why."""
    result = []
    earlier: set[tuple[str, str]] = set()  # the identifiers of the rows above
    for number, cells in rows(job, 0, PREVIEW_ROWS):
        prepared = row_input(job.columns, mapping, cells)
        shown = [(t, _value(c)) for t, c in zip(mapping, cells, strict=False) if t]
        problems, verdict = list(prepared.problems), "rejected"
        if funnel is not None and not problems:
            try:
                allow = current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False)
                cleaned = clean(prepared.lead_input, workspace, funnel, allow)
            except ValidationFailed as error:
                problems = reasons(error.errors, prepared.columns)
            else:
                keys = [
                    (n, v)
                    for n in (funnel.identifier, *IDENTIFIERS)
                    if (v := cleaned.identifier(n))
                ]
                # A row above of the same person (by the identifier that decides, as the
                # pipeline matches): the run creates the lead there and updates it here.
                existing = (keys and keys[0] in earlier) or _existing(workspace.id, funnel, cleaned)
                verdict = "update" if existing else "new"
                earlier.update(keys)
                if existing and funnel.on_duplicate == OnDuplicate.REJECT:
                    verdict, problems = (
                        "rejected",
                        ["already a lead; the funnel rejects duplicates"],
                    )
        result.append(PreviewRow(number, shown, verdict if funnel else "", problems))
    return result


def outcome_reasons(outcome: Outcome, columns: dict[str, str]) -> list[str]:
    """Why the pipeline refused a row, in words for staff."""
    if outcome.errors:
        return reasons(outcome.errors, columns)
    code = outcome.code or ""
    if code.startswith("DUPLICATE_"):
        identifier = code.removeprefix("DUPLICATE_").lower().replace("_", " ")
        return [f"A lead with this {identifier} already exists, and the funnel rejects duplicates."]
    if code == "FUNNEL_CLOSED":
        return ["The funnel stopped taking registrations."]
    return [outcome.message or "The row was not imported."]


@dataclass
class Report:
    created: int
    updated: int
    rejected: int
    shown: list[dict[str, Any]] = field(default_factory=list)  # the first rejected rows

    @property
    def done(self) -> int:
        return self.created + self.updated + self.rejected


def report(job: LeadImport) -> Report:
    """The counts, and the first rejected rows with their reasons."""
    shown = db.session.scalars(
        db.select(LeadImportRejection)
        .filter_by(import_id=job.id)
        .order_by(LeadImportRejection.row_index)
        .limit(SHOWN_REJECTIONS)
    )
    return Report(
        job.created_count,
        job.updated_count,
        job.rejected_count,
        [item.as_row() for item in shown],
    )


def rejected_csv(job: LeadImport, page: int = 1000) -> Iterator[str]:
    """The refused rows as they were, with a column saying why: fix them and import again.
    Read a page at a time, so a million refused rows stream out in bounded memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", *job.columns, "error"])
    yield "\ufeff" + buffer.getvalue()
    after = -1
    rejection = LeadImportRejection
    while True:
        # Plain rows, not ORM objects (nothing to track, nothing to expunge): 40 % of the time.
        items = db.session.execute(
            db.select(rejection.row_index, rejection.number, rejection.cells, rejection.reasons)
            .filter(rejection.import_id == job.id, rejection.row_index > after)
            .order_by(rejection.row_index)
            .limit(page)
        ).all()
        if not items:
            return
        buffer.seek(0)
        buffer.truncate()
        for item in items:
            cells = [safe_cell(str(value)) for value in item.cells]
            writer.writerow([item.number, *cells, safe_cell("; ".join(item.reasons))])
        yield buffer.getvalue()
        after = items[-1].row_index
