"""Find a workspace's leads: prefix search, filters and keyset pagination, newest first."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import phonenumbers
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from leadsite.extensions import db
from leadsite.models import Journey, JourneyStatus, Lead, Origin
from leadsite.models.lead import search_key

PAGE_SIZE = 50
TRUE_VALUES = ("true", "1", "yes", "on")
FALSE_VALUES = ("false", "0", "no", "off")
MAX_QUERY_LENGTH = 100
PHONE_QUERY = re.compile(r"\+?[\d\s().-]+")
# On SQLite a search that the prefix indexes find at most this many leads for reads them by
# rowid; one with more walks the leads newest first (see `_few_matches`).
FEW_MATCHES = 5000
NEWEST_FIRST = (Lead.created_at.desc(), Lead.id.desc())
ROWID = literal_column("leads.rowid")  # SQLite's own key of a table row


def yes_or_no(raw: str | None) -> str | None:
    """ "yes" or "no" for the words a filter of a yes/no question accepts, None for others."""
    word = (raw or "").strip().lower()
    if word in TRUE_VALUES:
        return "yes"
    return "no" if word in FALSE_VALUES else None


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
    # Held leads (registration.held) are listed apart: only they, or (by default) none of them.
    held: bool = False
    # "yes": leads who completed a journey (of `funnel`, when set); "no": the others.
    converted: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LeadFilters:
        """Read the filters from query-string arguments, trimmed and bounded in length.
        `funnel_id` is another name of `funnel` (the API's)."""
        words = {
            name: " ".join((args.get(name) or "").split())[:MAX_QUERY_LENGTH]
            for name in ("q", "status", "origin", "funnel", "tag")
        }
        words["funnel"] = words["funnel"] or (args.get("funnel_id") or "").strip()[:40]
        return cls(
            **words,
            held=(args.get("held") or "").strip().lower() in TRUE_VALUES,
            converted=yes_or_no(args.get("converted")) or "",
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


def starts_with(
    expression: ColumnElement[Any], prefix: str, indexed: bool = True
) -> ColumnElement[bool]:
    """`expression` starts with `prefix`, written so that a B-tree index can serve it.

    PostgreSQL uses an index for `LIKE 'abc%'` when it is built with `text_pattern_ops`.
    SQLite cannot use an index on an expression for LIKE, but can for a range, and its binary
    collation makes the range [prefix, successor) exactly the strings starting with prefix.
    With `indexed=False` SQLite gets the same test in a form no index serves (a comparison of
    the first characters), so that it reads the leads in created order instead.
    """
    if _dialect() == "postgresql":
        return expression.like(_escape_like(prefix) + "%", escape="\\")
    if not indexed:
        return func.substr(expression, 1, len(prefix)) == prefix
    return and_(expression >= prefix, expression < _successor(prefix))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _unindexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """`+column`: the same value, which SQLite will not look up through an index."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _phone_prefixes(query: str, country: str) -> list[str]:
    """The E.164 prefixes a typed phone fragment may stand for, however it is written in
    `country`: international (+1 415 555, 001 415 555, 1 415 555) or national, with or
    without the trunk prefix (415 555 and (415) 555-0101 in the US, 06 12 in the Netherlands)."""
    if not PHONE_QUERY.fullmatch(query):
        return []
    digits = re.sub(r"\D", "", query)
    if len(digits) < 2:
        return []
    if query.startswith("+"):
        return ["+" + digits]
    if digits.startswith("00"):
        return ["+" + digits[2:]]
    # Typed with its calling code but no +; no calling code starts with 0.
    prefixes = [] if digits.startswith("0") else ["+" + digits]
    calling_code = phonenumbers.country_code_for_region(country)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
    if calling_code and metadata is not None:
        # A national number: its trunk prefix (0 in most countries, 1 in the US, none in
        # Italy) gives way to the calling code.
        trunk = metadata.national_prefix or ""
        national = digits[len(trunk) :] if trunk and digits.startswith(trunk) else digits
        if national:
            prefixes.append(f"+{calling_code}{national}")
    return list(dict.fromkeys(prefixes))


def _query_branches(query: str, country: str, indexed: bool = True) -> list[ColumnElement[bool]]:
    """The ways a lead matches a search, each served by one prefix index (when `indexed`).

    Names are compared by their search keys (no case, no accents: `garcia` finds García);
    emails are stored lower-cased, so they are compared as typed, lower-cased.
    """
    text = " ".join(query.lower().split())
    branches = [starts_with(Lead.email, text, indexed)]
    words = (search_key(query) or "").split()
    if words:
        first, last = Lead.first_name_key, Lead.last_name_key
        name = " ".join(words)
        branches += [starts_with(first, name, indexed), starts_with(last, name, indexed)]
    if len(words) > 1:  # "ada love" finds Ada Lovelace
        rest = " ".join(words[1:])
        branches.append(
            and_(starts_with(first, words[0], indexed), starts_with(last, rest, indexed))
        )
    phones = _phone_prefixes(query, country)
    return branches + [starts_with(Lead.phone, prefix, indexed) for prefix in phones]


def _few_matches(workspace_id: str, query: str, country: str) -> list[int] | None:
    """SQLite: the rowids of the workspace's leads matching `query` if there are at most
    FEW_MATCHES, else None.

    SQLite has no histograms to tell a rare prefix from a common one. With sqlite_stat1 it reads
    every match through the prefix indexes and sorts them (2 s for `j` at a million leads);
    without it walks the leads newest first and filters (2 s for a rare prefix). So count first,
    through the indexes: each UNION ALL branch is one index range, which SQLite reads through
    its index with or without statistics, and LIMIT stops it early. Few matches are then read by
    rowid; many are found soon enough by walking the leads newest first.
    """
    probe = union_all(
        *(
            select(ROWID).where(Lead.workspace_id == workspace_id, branch)
            for branch in _query_branches(query, country)
        )
    ).limit(FEW_MATCHES + 1)
    rowids = db.session.scalars(probe).all()  # a lead may match two branches: counted twice
    return sorted(set(rowids)) if len(rowids) <= FEW_MATCHES else None


def _has_tag(tag: str) -> ColumnElement[bool]:
    if _dialect() == "postgresql":
        return type_coerce(Lead.tags, JSONB).contains([tag])  # served by a GIN index
    values = func.json_each(Lead.tags).table_valued("value")
    return exists(select(1).select_from(values).where(values.c.value == tag))


def _converted(workspace_id: str, funnel_id: str, converted: bool) -> ColumnElement[bool]:
    """The lead completed a journey (of `funnel_id`, when given): it counts as converted there.
    A cancelled journey is not a conversion. Served by the unique (lead_id, funnel_id)."""
    completed = exists().where(
        Journey.lead_id == Lead.id,
        Journey.workspace_id == workspace_id,
        Journey.status == JourneyStatus.COMPLETED.value,
    )
    if funnel_id:
        completed = completed.where(Journey.funnel_id == funnel_id)
    return completed if converted else ~completed


@dataclass(frozen=True)
class Matching:
    """A workspace's leads that match filters, to be read newest first, a page at a time."""

    workspace_id: str
    conditions: list[ColumnElement[bool]]
    # SQLite, a search with few matches: their rowids, and the page is read through them.
    rowids: list[int] | None = None

    def statement(
        self,
        *columns: Any,
        after: tuple[datetime, str] | None = None,
        limit: int = PAGE_SIZE,
    ) -> Select[Any]:
        """`columns` of the first `limit` leads after the (created_at, id) `after`, newest
        first, with `Origin` outer-joined (its name is one of the list's columns)."""
        conditions = list(self.conditions)
        if after is not None:
            conditions.append(tuple_(Lead.created_at, Lead.id) < tuple_(*after))
        statement = (
            select(*columns)
            .select_from(Lead)
            .outerjoin(
                Origin, and_(Origin.id == Lead.origin_id, Origin.workspace_id == self.workspace_id)
            )
        )
        if self.rowids is None:
            return statement.where(*conditions).order_by(*NEWEST_FIRST).limit(limit)
        # The page's rowids first, from the matches and their sort keys alone; then their rows
        # (sorting whole rows joined to their origin costs twice as much).
        page = select(ROWID).where(*conditions).order_by(*NEWEST_FIRST).limit(limit)
        return statement.where(ROWID.in_(page.correlate(None))).order_by(*NEWEST_FIRST)


def matching(
    workspace_id: str,
    filters: LeadFilters,
    country: str = "US",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Matching:
    """The workspace's leads matching `filters` and created in [created_after, created_before).

    `country` reads national phone numbers typed in the search.
    """
    rowids = None
    if filters.q and _dialect() == "sqlite":
        rowids = _few_matches(workspace_id, filters.q, country)
    # Read by rowid, the few matches must be the only way in: no index on another condition may
    # look better to a planner without statistics (it assumes ten leads per workspace).
    column = _unindexed if rowids is not None else (lambda column: column)
    conditions = [
        column(Lead.workspace_id) == workspace_id,
        Lead.erased_at.is_(None),
        Lead.held.is_(filters.held),
    ]
    if rowids is not None:
        # One JSON parameter, not thousands: binding them cost more than reading the rows.
        picked = func.json_each(json.dumps(rowids)).table_valued("value")
        conditions.append(ROWID.in_(select(picked.c.value)))
    elif filters.q:
        # PostgreSQL picks its plan per prefix from its histograms. SQLite walks the leads newest
        # first: a prefix with this many matches soon fills a page.
        branches = _query_branches(filters.q, country, indexed=_dialect() != "sqlite")
        conditions.append(or_(*branches))
    if filters.status:
        conditions.append(column(Lead.status) == filters.status)
    if filters.origin:
        conditions.append(column(Lead.origin_id) == filters.origin)
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
    if filters.converted:
        conditions.append(_converted(workspace_id, filters.funnel, filters.converted == "yes"))
    if created_after is not None:
        conditions.append(Lead.created_at >= created_after)
    if created_before is not None:
        conditions.append(Lead.created_at < created_before)
    return Matching(workspace_id, conditions, rowids)


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
    cursor = decode_cursor(after) if after else None
    leads = matching(workspace_id, filters, country, created_after, created_before)
    statement = leads.statement(Lead, Origin.name, after=cursor, limit=limit + 1)
    rows = [(lead, origin_name) for lead, origin_name in db.session.execute(statement)]
    more = len(rows) > limit
    rows = rows[:limit]
    return LeadPage(rows=rows, next_cursor=encode_cursor(rows[-1][0]) if more else None)
