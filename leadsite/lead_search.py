"""Find a workspace's leads: prefix search, filters and keyset pagination, newest first."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, tuple_, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from leadsite.extensions import db
from leadsite.models import Journey, Lead, Origin

PAGE_SIZE = 50
MAX_QUERY_LENGTH = 100
PHONE_QUERY = re.compile(r"\+?[\d\s().-]+")


class InvalidCursor(ValueError):
    """A `after` cursor that this module did not make (edited, truncated or from elsewhere)."""


@dataclass(frozen=True)
class LeadFilters:
    """What the leads list is narrowed to; empty strings mean "any"."""

    q: str = ""
    status: str = ""
    origin: str = ""
    funnel: str = ""
    tag: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LeadFilters:
        """Read the filters from query-string arguments, trimmed and bounded in length."""
        return cls(
            **{
                name: " ".join((args.get(name) or "").split())[:MAX_QUERY_LENGTH]
                for name in ("q", "status", "origin", "funnel", "tag")
            }
        )

    def as_args(self) -> dict[str, str]:
        """The filters that are set, as query-string arguments (for links)."""
        return {name: value for name, value in asdict(self).items() if value}

    @property
    def active(self) -> bool:
        return any(asdict(self).values())


@dataclass
class LeadPage:
    """One page of leads with each one's origin name, and the cursor of the next page."""

    rows: list[tuple[Lead, str | None]]
    next_cursor: str | None


def encode_cursor(lead: Lead) -> str:
    """An opaque cursor naming the position just after `lead` in (created_at, id) order."""
    raw = f"{lead.created_at.astimezone(UTC).isoformat()}|{lead.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor names; `InvalidCursor` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, lead_id = raw.split("|")
        created_at = datetime.fromisoformat(stamp)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error
    if created_at.tzinfo is None or not lead_id.startswith("lead_") or len(lead_id) > 40:
        raise InvalidCursor(cursor)
    return created_at, lead_id


def _successor(prefix: str) -> str:
    """The smallest string greater than every string that starts with `prefix`."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            following = last + 1 if last + 1 not in range(0xD800, 0xE000) else 0xE000
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return "\U0010ffff"


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def starts_with(expression: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """`expression` starts with `prefix`, written so that a B-tree index can serve it.

    PostgreSQL uses an index for `LIKE 'abc%'` when it is built with `text_pattern_ops`.
    SQLite cannot use an index on an expression for LIKE, but can for a range, and its binary
    collation makes the range [prefix, successor) exactly the strings starting with prefix.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return expression.like(_escape_like(prefix) + "%", escape="\\")
    return and_(expression >= prefix, expression < _successor(prefix))


def _phone_prefixes(query: str, country: str) -> list[str]:
    """E.164 prefixes a typed phone fragment may stand for: +31 6..., 0031 6..., 06... ."""
    if not PHONE_QUERY.fullmatch(query):
        return []
    digits = re.sub(r"\D", "", query)
    if len(digits) < 2:
        return []
    if query.startswith("+"):
        return ["+" + digits]
    if digits.startswith("00"):
        return ["+" + digits[2:]]
    prefixes = ["+" + digits]
    calling_code = phonenumbers.country_code_for_region(country)
    if digits.startswith("0") and calling_code:
        # A national number: its trunk 0 gives way to the default country's calling code.
        prefixes.append(f"+{calling_code}{digits[1:]}")
    return prefixes


def _matches_query(query: str, country: str) -> ColumnElement[bool]:
    words = query.lower().split()
    text = " ".join(words)
    first, last = func.lower(Lead.first_name), func.lower(Lead.last_name)
    conditions = [
        starts_with(first, text),
        starts_with(last, text),
        # The registration pipeline stores emails lower-cased, so the column is compared as is.
        starts_with(Lead.email, text),
    ]
    if len(words) > 1:  # "ada love" finds Ada Lovelace
        conditions.append(
            and_(starts_with(first, words[0]), starts_with(last, " ".join(words[1:])))
        )
    conditions += [starts_with(Lead.phone, prefix) for prefix in _phone_prefixes(query, country)]
    return or_(*conditions)


def _has_tag(tag: str) -> ColumnElement[bool]:
    if db.session.get_bind().dialect.name == "postgresql":
        return type_coerce(Lead.tags, JSONB).contains([tag])  # served by a GIN index
    values = func.json_each(Lead.tags).table_valued("value")
    return exists(select(1).select_from(values).where(values.c.value == tag))


def _filter_conditions(
    workspace_id: str, filters: LeadFilters, country: str
) -> list[ColumnElement[bool]]:
    conditions = [Lead.workspace_id == workspace_id, Lead.erased_at.is_(None)]
    if filters.q:
        conditions.append(_matches_query(filters.q, country))
    if filters.status:
        conditions.append(Lead.status == filters.status)
    if filters.origin:
        conditions.append(Lead.origin_id == filters.origin)
    if filters.funnel:
        conditions.append(
            exists().where(
                Journey.lead_id == Lead.id,
                Journey.funnel_id == filters.funnel,
                Journey.workspace_id == workspace_id,
            )
        )
    if filters.tag:
        conditions.append(_has_tag(filters.tag))
    return conditions


def search_leads(
    workspace_id: str,
    filters: LeadFilters,
    after: str | None = None,
    limit: int = PAGE_SIZE,
    country: str = "US",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> LeadPage:
    """A page of the workspace's leads matching `filters`, newest first, after `after`.

    Keyset pagination on (created_at, id): each page costs the same however deep it is, and a
    lead registered meanwhile neither shifts nor repeats rows. `country` reads national phone
    numbers typed in the search.
    """
    conditions = _filter_conditions(workspace_id, filters, country)
    if created_after is not None:
        conditions.append(Lead.created_at >= created_after)
    if created_before is not None:
        conditions.append(Lead.created_at < created_before)
    if after:
        created_at, lead_id = decode_cursor(after)
        conditions.append(tuple_(Lead.created_at, Lead.id) < tuple_(created_at, lead_id))
    statement = (
        select(Lead, Origin.name)
        .outerjoin(Origin, and_(Origin.id == Lead.origin_id, Origin.workspace_id == workspace_id))
        .where(*conditions)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(limit + 1)
    )
    rows = [(lead, origin_name) for lead, origin_name in db.session.execute(statement)]
    more = len(rows) > limit
    rows = rows[:limit]
    return LeadPage(rows=rows, next_cursor=encode_cursor(rows[-1][0]) if more else None)
