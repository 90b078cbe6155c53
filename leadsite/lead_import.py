"""CSV import, the file side: check and keep an upload between steps, guess its columns."""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

from flask import current_app

from leadsite.models import UTM_FIELDS, DataPoint, utcnow

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 200
KEEP_SECONDS = 24 * 3600  # a finished import's report (and an abandoned upload) lasts a day
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
DELIMITERS = (",", ";", "\t", "|")

# What a column may be imported as: a lead field, a data point (`data:<name>`), or nothing ("").
LEAD_TARGETS = [
    ("email", "Email"),
    ("phone", "Phone"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("name", "Full name (split into first and last)"),
    ("unique_id", "Unique id"),
    ("address", "Address"),
    ("status", "Status"),
    ("tags", "Tags (separated by commas)"),
    ("country_code", "Country of the phone number (US, FR …)"),
    ("source", "Source"),
    ("source_url", "Source URL"),
    *((name, name.replace("_", " ").replace("utm", "UTM")) for name in UTM_FIELDS),
    ("opt_in", "Email opt-in (yes / no)"),
    ("sms_opt_in", "SMS opt-in (yes / no)"),
    ("custom", "A custom field, named after the column"),
    ("custom_fields", "Custom fields (a JSON object)"),
]
TARGET_LABELS = dict(LEAD_TARGETS)

_SYNONYMS = {
    "email": "email emailaddress mail emailadres courriel",
    "phone": "phone phonenumber telephone tel mobile mobilephone mobilenumber cell cellphone",
    "first_name": "firstname first givenname forename",
    "last_name": "lastname last surname familyname",
    "name": "name fullname",
    "unique_id": "uniqueid externalid customerid",
    "address": "address streetaddress postaladdress",
    "status": "status leadstatus",
    "tags": "tags tag labels",
    "country_code": "countrycode country",
    "source": "source",
    "source_url": "sourceurl landingpage",
    "opt_in": "optin emailoptin newsletter subscribed",
    "sms_opt_in": "smsoptin",
    "custom_fields": "customfields",
    **{name: name.replace("_", "") for name in UTM_FIELDS},
}
SYNONYMS = {word: target for target, words in _SYNONYMS.items() for word in words.split()}


class BadFile(ValueError):
    """An upload that cannot be imported; the message tells staff what to do about it."""


class NoSuchImport(LookupError):
    """No import by that token in this workspace (never was, another workspace's, or swept)."""


def canonical(header: str) -> str:
    """`E-mail`, `e_mail` and `Email ` all read `email`."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def guess_mapping(columns: list[str], points: list[DataPoint]) -> list[str]:
    """A target per column: a lead field its header names, or a data point named or labelled
    like it; each target at most once (the first column wins); anything else is skipped."""
    by_name = {}
    for point in points:
        by_name.setdefault(canonical(point.label), f"data:{point.name}")
        by_name[canonical(point.name)] = f"data:{point.name}"
    used: set[str] = set()
    mapping = []
    for header in columns:
        key = canonical(header)
        target = SYNONYMS.get(key) or by_name.get(key) or ""
        if target in used:
            target = ""
        used.add(target)
        mapping.append(target)
    return mapping


@dataclass
class ImportJob:
    """An uploaded file on its way through mapping, preview and run; stored as JSON."""

    token: str
    workspace_id: str
    user_id: str
    filename: str
    columns: list[str]
    row_count: int
    created_at: str
    funnel_id: str | None = None
    mapping: list[str] = field(default_factory=list)  # set when the run starts
    finished_at: str | None = None

    @property
    def started(self) -> bool:
        return bool(self.mapping)


def folder() -> Path:
    path = Path(
        current_app.config.get("LEAD_IMPORT_FOLDER") or Path(current_app.instance_path) / "imports"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def paths(token: str) -> tuple[Path, Path, Path]:
    """The rows (CSV), the job (JSON) and the outcomes (JSON lines) of an import."""
    base = folder() / token
    return base.with_suffix(".csv"), base.with_suffix(".json"), base.with_suffix(".jsonl")


def decode(data: bytes) -> str:
    """The text of an upload: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise BadFile(
            "This is an Excel workbook, not a CSV file. In Excel choose File, Save As, "
            "“CSV UTF-8”, then upload that file."
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:  # an odd byte count, a lone half of a surrogate pair
            raise BadFile(
                "This file starts as UTF-16 text but is damaged further on. Save it again "
                "(in Excel: File, Save As, “CSV UTF-8”), then upload that file."
            ) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise BadFile("This file is not text. Upload a CSV file (values separated by commas).")
    return text


def _delimiter(text: str) -> str:
    """The separator the header line uses most: `,` `;` (Excel in much of Europe), tab or `|`."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _headers(raw: list[str]) -> list[str]:
    """Trimmed column names; blank or repeated ones are numbered so every column has a name."""
    names: list[str] = []
    for index, name in enumerate(raw, start=1):
        name = name.strip() or f"Column {index}"
        names.append(f"{name} ({index})" if name in names else name)
    return names


def _parse(text: str) -> tuple[list[str], list[list[str]]]:
    # strict: a quote left open would otherwise swallow every row after it, silently.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise BadFile("The file is empty: its first line should name the columns.")
        if len(header) > MAX_COLUMNS:
            raise BadFile(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are read.")
        rows = []
        for number, row in enumerate(reader, start=2):  # a spreadsheet's row numbers
            if any(cell.strip() for cell in row):
                rows.append([str(number), *row[: len(header)]])
            if len(rows) > MAX_ROWS:
                raise BadFile(
                    f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files."
                )
    except csv.Error as error:
        raise BadFile(f"The file is not valid CSV near line {reader.line_num}: {error}.") from None
    if not rows:
        raise BadFile("The file names its columns but has no rows to import.")
    return _headers(header), rows


def save_upload(workspace_id: str, user_id: str, filename: str, data: bytes) -> ImportJob:
    """Check and store an upload; the rows are kept as UTF-8 CSV, each with its row number."""
    if len(data) > MAX_BYTES:
        raise BadFile(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; at most {MAX_BYTES // 1024 // 1024} MB "
            "can be imported at once. Split it into smaller files."
        )
    columns, rows = _parse(decode(data))
    sweep()
    job = ImportJob(
        token=secrets.token_urlsafe(18),
        workspace_id=workspace_id,
        user_id=user_id,
        filename=Path(filename or "upload.csv").name[:200],
        columns=columns,
        row_count=len(rows),
        created_at=utcnow().isoformat(),
    )
    rows_path, _, _ = paths(job.token)
    with rows_path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    save(job)
    return job


def save(job: ImportJob) -> None:
    _, job_path, _ = paths(job.token)
    temporary = job_path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(job)), encoding="utf-8")
    temporary.replace(job_path)  # atomic: a reader never sees half a file


def load(token: str, workspace_id: str) -> ImportJob:
    """The workspace's import by token; `NoSuchImport` for anything else."""
    if not TOKEN.fullmatch(token):
        raise NoSuchImport(token)
    _, job_path, _ = paths(token)
    try:
        job = ImportJob(**json.loads(job_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        raise NoSuchImport(token) from None
    if job.workspace_id != workspace_id:
        raise NoSuchImport(token)
    return job


def rows(job: ImportJob, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the stored rows from `start`, cells padded to the columns."""
    rows_path, _, _ = paths(job.token)
    with rows_path.open(encoding="utf-8", newline="") as file:
        for record in islice(csv.reader(file), start, stop):
            cells = record[1:]
            cells += [""] * (len(job.columns) - len(cells))
            yield int(record[0]), cells


def sweep(now: float | None = None) -> None:
    """Delete the files of imports older than a day."""
    limit = (now or time.time()) - KEEP_SECONDS
    for path in folder().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue  # another process swept it first
