"""Leads as CSV, written in keyset batches so an export of any size runs in constant memory."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from leadsite.extensions import db
from leadsite.lead_search import LeadFilters, search_leads
from leadsite.models import UTM_FIELDS, Lead, Origin
from leadsite.representations import iso

BATCH_SIZE = 1000
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

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); a plain
# number such as an E.164 phone is harmless and is left as it is.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d[\d .]*")


def safe_cell(value: str) -> str:
    """The value, with a leading `'` when a spreadsheet would read it as a formula."""
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value) or ""
    return safe_cell(str(value))


def lead_row(lead: Lead, origin_name: str | None) -> list[str]:
    """One lead as the cells of `COLUMNS`."""
    values: dict[str, Any] = {name: getattr(lead, name, None) for name in COLUMNS}
    values["tags"] = ", ".join(lead.tags or [])
    values["origin"] = origin_name
    values["custom_fields"] = (
        json.dumps(lead.custom_fields, ensure_ascii=False, default=str)
        if lead.custom_fields
        else None
    )
    return [_cell(values[name]) for name in COLUMNS]


def _csv_chunks(rows: Iterable[list[str]], bom: bool) -> Iterator[str]:
    """The header at once (the download starts), then the rows in chunks of about 64 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield (BOM if bom else "") + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def _filtered_rows(workspace_id: str, filters: LeadFilters, country: str) -> Iterator[list[str]]:
    after = None
    while True:
        page = search_leads(workspace_id, filters, after=after, limit=BATCH_SIZE, country=country)
        # The session's identity map holds unchanged leads weakly: once a batch is written and
        # `page` rebound, its leads are freed, so memory stays flat however many there are.
        for lead, origin_name in page.rows:
            yield lead_row(lead, origin_name)
        if page.next_cursor is None:
            return
        after = page.next_cursor


def _selected_rows(workspace_id: str, lead_ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(lead_ids), BATCH_SIZE):
        chunk = lead_ids[start : start + BATCH_SIZE]
        rows = db.session.execute(
            db.select(Lead, Origin.name)
            .outerjoin(Origin, Origin.id == Lead.origin_id)
            .filter(
                Lead.workspace_id == workspace_id,
                Lead.erased_at.is_(None),
                Lead.id.in_(chunk),
            )
            .order_by(Lead.created_at.desc(), Lead.id.desc())
        )
        for lead, origin_name in rows:
            yield lead_row(lead, origin_name)


def export_filtered(
    workspace_id: str, filters: LeadFilters, country: str, bom: bool = True
) -> Iterator[str]:
    """CSV text of the workspace's leads matching `filters`, newest first, in chunks."""
    return _csv_chunks(_filtered_rows(workspace_id, filters, country), bom)


def export_selected(workspace_id: str, lead_ids: list[str], bom: bool = True) -> Iterator[str]:
    """CSV text of the given leads of the workspace (others' ids are ignored)."""
    return _csv_chunks(_selected_rows(workspace_id, lead_ids), bom)
