"""CSV import, the file side: read an upload as a stream into the database in chunks of rows,
so that any web process and any worker can run it; guess its columns."""

from __future__ import annotations

import codecs
import csv
import io
import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, insert, update

from leadsite.database import begin_write_transaction, holds_write_lock
from leadsite.extensions import db
from leadsite.models import (
    UTM_FIELDS,
    DataPoint,
    ImportStatus,
    LeadImport,
    LeadImportChunk,
    utcnow,
)

MAX_BYTES = 200 * 1024 * 1024
MAX_ROWS = 2_000_000
MAX_COLUMNS = 200
READ_BYTES = 1024 * 1024  # the stream is decoded a block at a time
CHUNK_ROWS = 500  # rows a chunk: stored together, registered together in one transaction
KEEP_SECONDS = 24 * 3600  # an abandoned upload, and a finished import's report, last a day
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


class _Retry(Exception):
    """The file is not UTF-8 after all: read it again as Windows-1252."""


def _check_start(head: bytes) -> str:
    """The encoding to read a file starting with `head` in, or `BadFile` for a workbook."""
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise BadFile(
            "This is an Excel workbook, not a CSV file. In Excel choose File, Save As, "
            "“CSV UTF-8”, then upload that file."
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8-sig"


_DAMAGED_UTF16 = (
    "This file starts as UTF-16 text but is damaged further on. Save it again "
    "(in Excel: File, Save As, “CSV UTF-8”), then upload that file."
)
_TOO_MANY_ROWS = "The file has more than {:,} rows. Split it into smaller files."
_NOT_TEXT = "This file is not text. Upload a CSV file (values separated by commas)."


def _lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """The stream's text, a block at a time, never whole in memory."""
    decoder = codecs.getincrementaldecoder(encoding)(
        errors="replace" if encoding == "cp1252" else "strict"
    )
    rest = ""  # a block ends inside a line: its start waits for the next block
    while True:
        block = stream.read(READ_BYTES)
        try:
            text = rest + decoder.decode(block, final=not block)
        except UnicodeDecodeError:
            if encoding == "utf-16":
                raise BadFile(_DAMAGED_UTF16) from None
            raise _Retry() from None
        if "\x00" in text:
            raise BadFile(_NOT_TEXT)
        lines = io.StringIO(text, newline="").readlines()
        # A last line ending in "\r" waits too: its "\n" may start the next block.
        rest = lines.pop() if block and lines and not lines[-1].endswith("\n") else ""
        yield from lines
        if not block:
            return


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


def _size(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _write_chunk(job_id: str, first_row: int, buffer: io.StringIO, count: int) -> None:
    begin_write_transaction()
    db.session.execute(
        insert(LeadImportChunk).values(
            import_id=job_id, first_row=first_row, row_count=count, data=buffer.getvalue()
        )
    )
    db.session.commit()


def _refuse_too_many_rows(stream: BinaryIO, encoding: str, delimiter: str) -> None:
    """`BadFile` for a file of more than `MAX_ROWS` rows, before any of it is stored: a file
    one row over the limit was otherwise refused only once its 2,000,000 rows had been written
    as chunks, a minute later, and then deleted. The line breaks' count (bytes, a block at a
    time) bounds the rows from above; only a file with more lines than that is parsed to count
    its rows (a quoted cell can hold line breaks). Leaves the stream at its start."""
    lines = 1
    while block := stream.read(READ_BYTES):
        lines += block.count(b"\n")
    stream.seek(0)
    if lines - 1 <= MAX_ROWS:  # the header's line, then at most MAX_ROWS rows
        return
    rows = -1  # the header
    try:
        for row in csv.reader(_lines(stream, encoding), delimiter=delimiter, strict=True):
            rows += any(cell.strip() for cell in row)
            if rows > MAX_ROWS:
                raise BadFile(_TOO_MANY_ROWS.format(MAX_ROWS))
    except csv.Error:
        pass  # said, with its line, by the pass that stores the rows
    finally:
        stream.seek(0)


def _store_rows(job: LeadImport, stream: BinaryIO, encoding: str) -> None:
    """Parse the stream and write its rows in chunks of `CHUNK_ROWS`, each with its number."""
    head = stream.read(64 * 1024)
    stream.seek(0)
    delimiter = _delimiter(head.decode(encoding if encoding != "utf-16" else "utf-16", "replace"))
    # strict: a quote left open would otherwise swallow every row after it, silently.
    _refuse_too_many_rows(stream, encoding, delimiter)
    reader = csv.reader(_lines(stream, encoding), delimiter=delimiter, strict=True)
    count, first_row = 0, 0
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise BadFile("The file is empty: its first line should name the columns.")
        if len(header) > MAX_COLUMNS:
            raise BadFile(f"The file has {len(header)} columns; at most {MAX_COLUMNS} are read.")
        job.columns = _headers(header)
        for number, row in enumerate(reader, start=2):  # a spreadsheet's row numbers
            if not any(cell.strip() for cell in row):
                continue
            writer.writerow([number, *row[: len(header)]])
            count += 1
            if count == CHUNK_ROWS:
                _write_chunk(job.id, first_row, buffer, count)
                first_row, count = first_row + count, 0
                buffer.seek(0)
                buffer.truncate()
    except csv.Error as error:
        raise BadFile(f"The file is not valid CSV near line {reader.line_num}: {error}.") from None
    if count:
        _write_chunk(job.id, first_row, buffer, count)
    job.row_count = first_row + count
    if not job.row_count:
        raise BadFile("The file names its columns but has no rows to import.")


def save_upload(
    workspace_id: str, user_id: str, filename: str, upload: BinaryIO | bytes
) -> LeadImport:
    """Check an upload and store its rows in the database, reading it as a stream (a file
    werkzeug spooled to disk, or any seekable binary file)."""
    stream: BinaryIO = io.BytesIO(upload) if isinstance(upload, bytes) else upload
    size = _size(stream)
    if size > MAX_BYTES:
        raise BadFile(
            f"The file is {size / 1024 / 1024:.1f} MB; at most {MAX_BYTES // 1024 // 1024} MB "
            "can be imported at once. Split it into smaller files."
        )
    encoding = _check_start(stream.read(4))
    stream.seek(0)
    sweep()
    job = LeadImport(
        id=secrets.token_urlsafe(18),
        workspace_id=workspace_id,
        user_id=user_id,
        filename=Path(filename or "upload.csv").name[:200],
        byte_count=size,
        status=ImportStatus.UPLOADING,
    )
    begin_write_transaction()
    db.session.add(job)
    db.session.commit()
    try:
        try:
            _store_rows(job, stream, encoding)
        except _Retry:
            _forget_rows(job.id)
            stream.seek(0)
            _store_rows(job, stream, "cp1252")
    except BaseException:
        db.session.rollback()
        begin_write_transaction()
        db.session.execute(delete(LeadImport).where(LeadImport.id == job.id))
        db.session.commit()
        raise
    begin_write_transaction()
    job.status = ImportStatus.UPLOADED
    db.session.commit()
    return job


def _forget_rows(job_id: str) -> None:
    db.session.rollback()
    begin_write_transaction()
    db.session.execute(delete(LeadImportChunk).where(LeadImportChunk.import_id == job_id))
    db.session.commit()


def load(token: str, workspace_id: str) -> LeadImport:
    """The workspace's import by token; `NoSuchImport` for anything else (or one half up)."""
    if not TOKEN.fullmatch(token):
        raise NoSuchImport(token)
    job = db.session.get(LeadImport, token, populate_existing=True)
    if job is None or job.workspace_id != workspace_id or job.status == ImportStatus.UPLOADING:
        raise NoSuchImport(token)
    return job


def chunk_rows(job: LeadImport, chunk: LeadImportChunk) -> list[tuple[int, int, list[str]]]:
    """(row index in the file, row number, cells padded to the columns) of a chunk."""
    result = []
    for offset, record in enumerate(csv.reader(io.StringIO(chunk.data, newline=""))):
        cells = record[1:]
        cells += [""] * (len(job.columns) - len(cells))
        result.append((chunk.first_row + offset, int(record[0]), cells))
    return result


def rows(job: LeadImport, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, list]]:
    """(row number, cells) of the rows not run yet, from row index `start` to `stop`."""
    chunks = db.session.scalars(
        db.select(LeadImportChunk)
        .where(LeadImportChunk.import_id == job.id)
        .where(LeadImportChunk.first_row + LeadImportChunk.row_count > start)
        .order_by(LeadImportChunk.first_row)
    )
    for chunk in chunks:
        for index, number, cells in chunk_rows(job, chunk):
            if stop is not None and index >= stop:
                return
            if index >= start:
                yield number, cells


def sweep() -> int:
    """Delete imports (their chunks and report) made more than a day ago, but those running."""
    limit = utcnow() - timedelta(seconds=KEEP_SECONDS)
    if not holds_write_lock():
        # End the caller's read transaction (SQLite): its snapshot, older than another
        # connection's commit (the worker's), would make this first write fail at once.
        db.session.commit()
    begin_write_transaction()
    result = db.session.execute(
        delete(LeadImport)
        .where(LeadImport.created_at < limit, LeadImport.status != ImportStatus.QUEUED)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def set_mapping(
    job: LeadImport, mapping: list[str], funnel_id: str, origin_id: str | None = None
) -> None:
    """Queue the import with this mapping: a worker runs it from now on."""
    begin_write_transaction()
    db.session.execute(
        update(LeadImport)
        .where(LeadImport.id == job.id, LeadImport.status == ImportStatus.UPLOADED)
        .values(
            mapping=mapping, funnel_id=funnel_id, origin_id=origin_id, status=ImportStatus.QUEUED
        )
    )
    db.session.commit()
    db.session.refresh(job)
