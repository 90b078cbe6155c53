"""An ingestion entry's row, and an origin's entries, newest first."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from leadsite.batch_writer import read_fresh
from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.ingestion.writer import flush
from leadsite.models import IngestionEntry, utcnow

_ENTRY_ID = re.compile(r"^ing_[0-9a-z]{26}$")


class InvalidCursor(ValueError):
    """A cursor that is not the id of an entry."""


@dataclass
class EntryPage:
    entries: list[IngestionEntry]
    next_cursor: str | None


def entry_row(values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new entry: its id and time, defaults for what `values` leaves out."""
    return {
        "id": values.get("id") or new_id(IngestionEntry.id_prefix),
        "at": values.get("at") or utcnow(),
        "codes": [],
        "method": "POST",
        "message": None,
        "query": None,
        "body": None,
        "details": None,
        "lead_id": None,
        **values,
    }


def list_entries(
    origin_id: str,
    outcome: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> EntryPage:
    """An origin's entries, newest first, from after the cursor `after` (an entry id)."""
    if after is not None and not _ENTRY_ID.match(after):
        raise InvalidCursor(after)
    if flush():
        read_fresh()
    query = db.select(IngestionEntry).where(IngestionEntry.origin_id == origin_id)
    if outcome:
        query = query.where(IngestionEntry.outcome == outcome)
    if after:
        query = query.where(IngestionEntry.id < after)
    rows = list(db.session.scalars(query.order_by(IngestionEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return EntryPage(rows, rows[-1].id if more and rows else None)
