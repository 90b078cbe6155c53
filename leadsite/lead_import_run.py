"""CSV import, the run: every row through `register()` on its own, outcomes for the report."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from leadsite.extensions import db
from leadsite.lead_export import safe_cell, unguarded_cell
from leadsite.lead_import import ImportJob, paths, rows, save
from leadsite.models import UTM_FIELDS, Funnel, Lead, OnDuplicate, Origin, Workspace, utcnow
from leadsite.registration import (
    Duplicate,
    FieldError,
    FunnelClosed,
    JourneyDataInput,
    LeadInput,
    RegistrationContext,
    RegistrationError,
    ValidationFailed,
    register,
)
from leadsite.registration.validate import IDENTIFIERS, clean

log = logging.getLogger(__name__)

BATCH_ROWS = 500  # per request: a big file runs in several short requests, never one long one
BATCH_SECONDS = 2.0
PREVIEW_ROWS = 5
INDEXED = re.compile(r"\[\d+\].*$")


class Busy(RuntimeError):
    """Another request is running this import's next rows (a second tab, a double click)."""


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
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
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
    job: ImportJob, mapping: list[str], funnel: Funnel | None, workspace: Workspace
) -> list[PreviewRow]:
    """The first rows as they would be imported, checked like the pipeline checks them (nothing
    is written): a new lead, an update of an existing one, or refused and why."""
    result = []
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
                existing = _existing(workspace.id, funnel, cleaned)
                verdict = "update" if existing else "new"
                if existing and funnel.on_duplicate == OnDuplicate.REJECT:
                    verdict, problems = (
                        "rejected",
                        ["already a lead; the funnel rejects duplicates"],
                    )
        result.append(PreviewRow(number, shown, verdict if funnel else "", problems))
    return result


def import_row(
    number: int, cells: list[str], job: ImportJob, origin: Origin, actor_id: str
) -> dict[str, Any]:
    """Register one row; its outcome as the report keeps it."""
    prepared = row_input(job.columns, job.mapping, cells)
    outcome: dict[str, Any] = {"row": number, "label": prepared.label}
    if prepared.problems:
        return {**outcome, "outcome": "rejected", "reasons": prepared.problems, "values": cells}
    try:
        registration = register(origin, prepared.lead_input, RegistrationContext(actor_id=actor_id))
    except ValidationFailed as error:
        problems = reasons(error.errors, prepared.columns)
    except Duplicate as error:
        problems = [
            f"A lead with this {error.identifier.replace('_', ' ')} already exists, "
            "and the funnel rejects duplicates."
        ]
    except FunnelClosed:
        problems = ["The funnel stopped taking registrations."]
    except RegistrationError as error:
        problems = [error.message]
    except IntegrityError:
        problems = ["It clashed with a change made at the same moment; import it again."]
    except Exception:  # one bad row must not stop the import (nor repeat forever)
        log.exception("import %s: row %s failed", job.token, number)
        db.session.rollback()
        problems = ["An unexpected error; the row was not imported."]
    else:
        lead = registration.lead
        created = "created" if registration.created else "updated"
        return {**outcome, "outcome": created, "lead_id": lead.id, "label": lead.display_name}
    return {**outcome, "outcome": "rejected", "reasons": problems, "values": cells}


def _done(results_path: Any) -> int:
    if not results_path.exists():
        return 0
    with results_path.open(encoding="utf-8") as file:
        return sum(1 for _ in file)


def run_batch(job: ImportJob, origin: Origin, actor_id: str) -> int:
    """Import the next rows (up to `BATCH_ROWS`, or `BATCH_SECONDS`); how many are done now.

    Outcomes are appended as each row commits, so an interrupted batch resumes after the last
    row it finished. When the last row is done the uploaded rows are deleted.
    """
    rows_path, _, results_path = paths(job.token)
    lock_path = rows_path.with_suffix(".lock")
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(job.token) from None
        done = _done(results_path)
        started, count = time.monotonic(), 0
        with results_path.open("a", encoding="utf-8") as out:
            for number, cells in rows(job, done) if done < job.row_count else ():
                out.write(json.dumps(import_row(number, cells, job, origin, actor_id)) + "\n")
                out.flush()
                done, count = done + 1, count + 1
                if count >= BATCH_ROWS or time.monotonic() - started >= BATCH_SECONDS:
                    break
        if done >= job.row_count and job.finished_at is None:
            job.finished_at = utcnow().isoformat()
            save(job)
            rows_path.unlink(missing_ok=True)
            lock_path.unlink(missing_ok=True)  # nothing runs a finished import again
    return done


@dataclass
class Report:
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.created) + len(self.updated) + len(self.rejected)


def report(job: ImportJob) -> Report:
    _, _, results_path = paths(job.token)
    result = Report()
    if results_path.exists():
        with results_path.open(encoding="utf-8") as file:
            for line in file:
                item = json.loads(line)
                getattr(result, item["outcome"]).append(item)
    return result


def rejected_csv(job: ImportJob) -> Iterator[str]:
    """The refused rows as they were, with a column saying why: fix them and import again."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", *job.columns, "error"])
    for item in report(job).rejected:
        cells = [safe_cell(str(value)) for value in item["values"]]
        writer.writerow([item["row"], *cells, safe_cell("; ".join(item["reasons"]))])
    yield "\ufeff" + buffer.getvalue()
