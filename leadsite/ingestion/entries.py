"""Write an ingestion entry in its own short transaction; list an origin's entries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, text

from leadsite.database import write_transaction_options, writers_turn
from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import IngestionEntry, utcnow

_ENTRY_ID = re.compile(r"^ing_[0-9a-z]{26}$")

INSERT_ENTRY = insert(IngestionEntry.__table__)


class InvalidCursor(ValueError):
    """A cursor that is not the id of an entry."""


@dataclass
class EntryPage:
    entries: list[IngestionEntry]
    next_cursor: str | None


def entry_row(values: dict[str, Any]) -> dict[str, Any]:
    """Every column of a new entry: its id and time, defaults for what `values` leaves out."""
    return {
        "id": new_id(IngestionEntry.id_prefix),
        "at": utcnow(),
        "codes": [],
        "method": "POST",
        "message": None,
        "query": None,
        "body": None,
        "details": None,
        "lead_id": None,
        **values,
    }


def insert_entry(values: dict[str, Any]) -> str:
    """Insert an entry in the session's transaction (a registration's), which commits it."""
    row = entry_row(values)
    # On the session's connection: a plain INSERT needs none of the ORM's execution machinery.
    db.session.connection().execute(INSERT_ENTRY, row)
    return row["id"]


def write_entry(values: dict[str, Any], replacing: str | None = None) -> str:
    """Insert one entry (in place of the entry `replacing`, if any) and commit it at once;
    returns its id.

    Called once the call has been answered, in a transaction of its own: a registration that
    failed was rolled back, and its entry must still be kept. Whatever the request's session
    still holds uncommitted is rolled back first, as the end of the request would do anyway.
    On SQLite the entry waits its turn for the write lock like a registration; on PostgreSQL
    its commit does not wait for the WAL to reach the disk (an entry lost in a crash is a
    diagnostic lost, nothing a lead depends on).
    """
    session = db.session()
    if session.in_transaction():
        session.rollback()
    row = entry_row(values)
    postgresql = db.engine.dialect.name == "postgresql"
    with writers_turn():
        try:
            session.connection(execution_options=write_transaction_options(db.engine.dialect.name))
            if postgresql:
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            if replacing is not None:
                # Written in a registration's transaction, then answered otherwise (or that
                # transaction was rolled back): this entry replaces it.
                session.execute(db.delete(IngestionEntry).where(IngestionEntry.id == replacing))
            session.execute(INSERT_ENTRY, row)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return row["id"]


def list_entries(
    origin_id: str,
    outcome: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> EntryPage:
    """An origin's entries, newest first, from after the cursor `after` (an entry id)."""
    if after is not None and not _ENTRY_ID.match(after):
        raise InvalidCursor(after)
    query = db.select(IngestionEntry).where(IngestionEntry.origin_id == origin_id)
    if outcome:
        query = query.where(IngestionEntry.outcome == outcome)
    if after:
        query = query.where(IngestionEntry.id < after)
    rows = list(db.session.scalars(query.order_by(IngestionEntry.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return EntryPage(rows, rows[-1].id if more and rows else None)
