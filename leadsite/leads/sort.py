"""The leads list in another order than newest first: by name, email, status or oldest first,
with keyset pagination on each order (search.py keeps the matching and the newest-first path).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select, tuple_

from leadsite.extensions import db
from leadsite.leads.search import (
    PAGE_SIZE,
    InvalidCursor,
    LeadFilters,
    LeadPage,
    matching,
    search_leads,
)
from leadsite.models import Lead, Origin
from leadsite.values import load_json

NEWEST = "-created"
EMPTY = literal_column("''")  # inline, so that SQLite matches the expression indexes


def _name_first() -> ColumnElement[str]:
    return func.coalesce(func.lower(Lead.first_name), EMPTY)


def _name_last() -> ColumnElement[str]:
    return func.coalesce(func.lower(Lead.last_name), EMPTY)


@dataclass(frozen=True)
class Sort:
    """One order of the list: its sort keys (the lead's id last, so that the order is total),
    all ascending or all descending, so that one index reads them in order."""

    key: str
    label: str
    columns: tuple[ColumnElement[Any], ...]
    descending: bool = False

    def order_by(self) -> list[ColumnElement[Any]]:
        return [c.desc() if self.descending else c.asc() for c in self.columns]

    def after(self, values: list[Any]) -> ColumnElement[bool]:
        """The leads after the one whose sort keys are `values`."""
        row, cursor = tuple_(*self.columns), tuple_(*values)
        return row < cursor if self.descending else row > cursor


def _sorts() -> dict[str, Sort]:
    created = (Lead.created_at, Lead.id)
    name = (_name_first(), _name_last(), Lead.id)  # ix_leads_workspace_name_sort
    email = (func.coalesce(Lead.email, EMPTY), Lead.id)  # ix_leads_workspace_email_sort
    status = (Lead.status, Lead.created_at, Lead.id)  # ix_leads_workspace_status_created
    return {
        NEWEST: Sort(NEWEST, "Newest first", created, descending=True),
        "created": Sort("created", "Oldest first", created),
        "name": Sort("name", "Name, A to Z", name),
        "-name": Sort("-name", "Name, Z to A", name, descending=True),
        "email": Sort("email", "Email, A to Z", email),
        "-email": Sort("-email", "Email, Z to A", email, descending=True),
        "status": Sort("status", "Status, A to Z", status),
        "-status": Sort("-status", "Status, Z to A", status, descending=True),
    }


SORTS = _sorts()
# The column headings that sort, and the sort each heading's first click asks for.
SORTABLE_COLUMNS = {"name": "name", "email": "email", "status": "status", "created": NEWEST}


def sort_named(raw: str | None) -> Sort:
    """The sort a `sort` argument names; newest first for anything else."""
    return SORTS.get((raw or "").strip(), SORTS[NEWEST])


def _cursor_values(sort: Sort, lead: Lead) -> list[Any]:
    """The lead's sort keys as the database computes them (SQLite's lower() is not Python's)."""
    row = db.session.execute(select(*sort.columns).where(Lead.id == lead.id)).one()
    return [v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in row]


def encode_cursor(sort: Sort, values: list[Any]) -> str:
    raw = json.dumps([sort.key, *values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: Sort, cursor: str) -> list[Any]:
    """The sort keys a cursor of `sort` names; `InvalidCursor` if it is not one of ours."""
    try:
        raw = load_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as error:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise InvalidCursor(cursor) from error
    if not isinstance(raw, list) or len(raw) != len(sort.columns) + 1 or raw[0] != sort.key:
        raise InvalidCursor(cursor)
    values = raw[1:]
    if not all(isinstance(value, str) and len(value) <= 300 for value in values):
        raise InvalidCursor(cursor)
    if not values[-1].startswith("lead_"):
        raise InvalidCursor(cursor)
    for index, column in enumerate(sort.columns):
        if column is Lead.created_at:
            try:
                values[index] = datetime.fromisoformat(values[index])
            except ValueError as error:
                raise InvalidCursor(cursor) from error
            if values[index].tzinfo is None:
                raise InvalidCursor(cursor)
    return values


def sorted_leads(
    workspace_id: str,
    filters: LeadFilters,
    sort: Sort,
    after: str | None = None,
    limit: int = PAGE_SIZE,
    country: str = "US",
) -> LeadPage:
    """A page of the workspace's leads matching `filters` in `sort`'s order, after `after`.

    Newest first is search.py's own (tuned per database); the others read the matches in
    their index's order and stop after a page, each page as cheap as the first.
    """
    if sort.key == NEWEST:
        return search_leads(workspace_id, filters, after=after, limit=limit, country=country)
    leads = matching(workspace_id, filters, country)
    conditions = list(leads.conditions)
    if after:
        conditions.append(sort.after(decode_cursor(sort, after)))
    statement = (
        select(Lead, Origin.name)
        .select_from(Lead)
        .outerjoin(Origin, and_(Origin.id == Lead.origin_id, Origin.workspace_id == workspace_id))
        .where(*conditions)
        .order_by(*sort.order_by())
        .limit(limit + 1)
    )
    rows = [(lead, origin_name) for lead, origin_name in db.session.execute(statement)]
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = encode_cursor(sort, _cursor_values(sort, rows[-1][0])) if more else None
    return LeadPage(rows=rows, next_cursor=cursor)
