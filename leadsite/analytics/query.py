"""What a funnel report covers: the funnel, a range of UTC days and perhaps one origin, read from
a page's or the API's query string with a precise message per bad parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from leadsite.extensions import db
from leadsite.models import Origin
from leadsite.registration import FieldError

DEFAULT_DAYS = 30
MAX_DAYS = 366
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9999, 12, 30)
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class ReportQuery:
    workspace_id: str
    funnel_id: str
    start: date  # first day, inclusive (UTC, as the counters' days are)
    end: date  # last day, inclusive
    origin_id: str | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The instant after the last day: journeys are in the range when created before it."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)


def _day(args: Mapping[str, str], name: str, default: date, errors: list[FieldError]) -> date:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw) if DAY.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None:
        errors.append(FieldError(name, "Must be a date written YYYY-MM-DD", raw[:40]))
    elif not FIRST_DAY <= day <= LAST_DAY:
        # The range's arithmetic (a default start 30 days back, the day after the end) must
        # stay inside the calendar.
        message = f"Must be a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
        errors.append(FieldError(name, message, raw[:40]))
        day = None
    return default if day is None else day


def parse_query(
    workspace_id: str, funnel_id: str, args: Mapping[str, str], today: date
) -> tuple[ReportQuery, list[FieldError]]:
    """The report `from`, `to` (days, inclusive; default the last 30 days to `today`) and
    `origin` (an origin of this funnel) ask for, and what is wrong with them; with errors the
    query returned is the default one, for a page to show beside them."""
    errors: list[FieldError] = []
    end = _day(args, "to", today, errors)
    start = _day(args, "from", end - timedelta(days=DEFAULT_DAYS - 1), errors)
    if not errors and start > end:
        errors.append(FieldError("to", "Must be on or after the first day", args.get("to")))
    elif not errors and (end - start).days >= MAX_DAYS:
        message = f"The range may span at most {MAX_DAYS} days"
        errors.append(FieldError("from", message, args.get("from")))
    origin_id = (args.get("origin") or "").strip() or None
    if origin_id is not None and not _funnel_origin(funnel_id, origin_id):
        errors.append(FieldError("origin", "No such origin in this funnel", origin_id[:60]))
    if errors:
        default_end = today
        default = ReportQuery(
            workspace_id, funnel_id, default_end - timedelta(days=DEFAULT_DAYS - 1), default_end
        )
        return default, errors
    return ReportQuery(workspace_id, funnel_id, start, end, origin_id), errors


def _funnel_origin(funnel_id: str, origin_id: str) -> bool:
    found = db.session.scalar(
        db.select(Origin.id).where(Origin.id == origin_id, Origin.funnel_id == funnel_id)
    )
    return found is not None
