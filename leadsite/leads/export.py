"""Leads as CSV, written in keyset batches so an export of any size runs in constant memory."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, String, Text, cast, func, type_coerce

from leadsite.extensions import db
from leadsite.leads.search import LeadFilters, Matching, matching
from leadsite.models import UTM_FIELDS, Lead, Origin

BATCH_SIZE = 5000
CHUNK_CHARS = 64 * 1024
BOM = "\ufeff"  # Excel reads the file as UTF-8 only when it starts with one

COLUMNS = (
    "id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "unique_id",
    "address",
    "status",
    "tags",
    "origin",
    "source",
    "source_url",
    "referrer",
    *UTM_FIELDS,
    "opt_in",
    "opt_in_at",
    "sms_opt_in",
    "opted_out_at",
    "confirmed_at",
    "counter",
    "created_at",
    "updated_at",
    "custom_fields",
)
# Written as they are read: the lead's id and a count hold nothing a spreadsheet would run.
AS_IS = frozenset({"id", "counter"})
FLAGS = frozenset({"opt_in", "sms_opt_in"})
STAMPS = frozenset({"opt_in_at", "opted_out_at", "confirmed_at", "created_at", "updated_at"})

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a plain
# number such as an E.164 phone is harmless and is left as it is.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset("".join(FORMULA_START))
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d .]*")
# A spreadsheet that splits lines on another separator (`;` in much of Europe, tabs, `|`) makes
# a new cell of what follows one inside ours: `x;=1+1` runs `=1+1`, and our quotes do not hold
# there (`a,"b;=1"` splits inside them). A `+`/`-` before a plain number is a number there too.
SEPARATORS = ",;\t\r\n|"
INNER_FORMULA = re.compile(rf"([{SEPARATORS}][\s\"]*)(=|@|[+-](?![\d. ]*(?:[{SEPARATORS}\"]|$)))")
# Finds the rows where INNER_FORMULA may match: one search over a row's cells joined by NUL
# (no separator, so nothing matches across two cells) costs a third of one search per cell.
MAYBE_INNER = re.compile(rf"[{SEPARATORS}][\s\"]*[=@+-]")
GUARDED_INNER = re.compile(rf"([{SEPARATORS}][\s\"]*)'([=@+-])")
GUARDED_START = re.compile(r"'[=+\-@\t\r]")


def safe_cell(value: str) -> str:
    """The value, with a `'` before what a spreadsheet would run as a formula: at its start, or
    after a separator inside it."""
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        value = "'" + value
    return INNER_FORMULA.sub(r"\1'\2", value)


def unguarded_cell(value: str) -> str:
    """A cell of our export as it was before `safe_cell` (for importing an export again)."""
    value = value[1:] if GUARDED_START.match(value) else value
    return GUARDED_INNER.sub(r"\1\2", value)


def _text(value: str | None) -> str | None:
    """Text someone typed, safe for a spreadsheet (csv.writer writes None as an empty cell)."""
    return safe_cell(value) if value else value


def _flag(value: bool | int | None) -> str:
    if value is None:
        return ""
    return "true" if value else "false"


def parse_stamp(text: str) -> datetime:
    """A timestamp read as UTC text (see `_stamp_text`), as an aware datetime."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stamp(text: str | None) -> str:
    """ISO 8601 in UTC as the API writes it (`representations.iso`): microseconds when any."""
    if text is None:
        return ""
    if len(text) == 26 and text[10] == " ":  # how both databases' text reads (`_stamp_text`)
        seconds = text[:10] + "T" + text[11:19]
        return seconds + "Z" if text.endswith(".000000") else seconds + text[19:] + "Z"
    return parse_stamp(text).isoformat().replace("+00:00", "Z")


def _tags(text: str | None) -> str | None:
    if not text or text in ("[]", "null"):
        return None
    return _text(", ".join(json.loads(text)))


def _json(text: str | None) -> str | None:
    """A JSON column's text as stored; SQLAlchemy's serializer escapes accents (\\u00e9), which
    are written back as themselves."""
    if not text or text in ("{}", "null"):
        return None
    if "\\u" in text:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return _text(text)


def _stamp_text(column: Any, dialect: str) -> ColumnElement[Any]:
    """The timestamp as UTC text, `YYYY-MM-DD HH:MM:SS.ffffff`: formatted on PostgreSQL, as
    SQLAlchemy stores it on SQLite (read as text, not parsed)."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US")
    return type_coerce(column, String)


def _cells(dialect: str) -> list[tuple[ColumnElement[Any], Callable[[Any], Any] | None]]:
    """What to select for each of COLUMNS, and how to write it (None: as it is read)."""
    table = Lead.__table__.c
    cells: list[tuple[ColumnElement[Any], Callable[[Any], Any] | None]] = []
    for name in COLUMNS:
        if name == "origin":
            cells.append((Origin.name, _text))
        elif name in AS_IS:
            cells.append((table[name], None))
        elif name in FLAGS:
            cells.append((table[name], _flag))
        elif name in STAMPS:
            cells.append((_stamp_text(table[name], dialect), _stamp))
        elif name in ("tags", "custom_fields"):  # their JSON text, not parsed objects
            cells.append((cast(table[name], Text), _tags if name == "tags" else _json))
        else:
            cells.append((table[name], _text))
    return cells


def _batches(leads: Matching, batch_size: int | None = None) -> Iterator[list[list[Any]]]:
    """The leads' cells, newest first, `batch_size` at a time (a keyset query each)."""
    batch_size = batch_size or BATCH_SIZE
    cells = _cells(db.session.get_bind().dialect.name)
    columns = [column for column, _ in cells]
    texts = [index for index, (_, write) in enumerate(cells) if write is _text]
    others = [
        (index, write) for index, (_, write) in enumerate(cells) if write not in (None, _text)
    ]
    created_at, lead_id = COLUMNS.index("created_at"), COLUMNS.index("id")
    connection = db.session.connection()  # Core rows: no ORM objects to build
    after = None
    while True:
        statement = leads.statement(*columns, after=after, limit=batch_size)
        rows = [list(row) for row in connection.execute(statement).fetchall()]
        if not rows:
            return
        after = (parse_stamp(rows[-1][created_at]), rows[-1][lead_id])
        for row in rows:
            # `_text` inlined: a function call per cell was a fifth of the export's time.
            for index in texts:
                value = row[index]
                if value and value[0] in FORMULA_FIRST:
                    row[index] = safe_cell(value)
            if MAYBE_INNER.search("\0".join([row[index] or "" for index in texts])):
                for index in texts:
                    row[index] = row[index] and safe_cell(row[index])
            for index, write in others:
                row[index] = write(row[index])
        yield rows
        if len(rows) < batch_size:
            return


def _csv_chunks(batches: Iterable[Sequence[Sequence[Any]]], bom: bool) -> Iterator[str]:
    """The header at once (the download starts), then the rows in chunks of 64 KB or more."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield (BOM if bom else "") + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for rows in batches:
        writer.writerows(rows)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def export_filtered(
    workspace_id: str, filters: LeadFilters, country: str, bom: bool = True
) -> Iterator[str]:
    """CSV text of the workspace's leads matching `filters`, newest first, in chunks."""

    def batches() -> Iterator[list[list[Any]]]:
        # Nothing is read until the header has left.
        yield from _batches(matching(workspace_id, filters, country))

    return _csv_chunks(batches(), bom)


def export_selected(workspace_id: str, lead_ids: list[str], bom: bool = True) -> Iterator[str]:
    """CSV text of the given leads of the workspace (others' ids are ignored), newest first."""

    def batches() -> Iterator[list[list[Any]]]:
        for start in range(0, len(lead_ids), BATCH_SIZE):
            chunk = lead_ids[start : start + BATCH_SIZE]
            conditions = [
                Lead.workspace_id == workspace_id,
                Lead.erased_at.is_(None),
                Lead.id.in_(chunk),
            ]
            yield from _batches(Matching(workspace_id, conditions), len(chunk))

    return _csv_chunks(batches(), bom)
