"""An origin's ingestion log on its back-office page: newest first, by outcome, "Load more"."""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from werkzeug.datastructures import MultiDict

from leadsite.ingestion import InvalidCursor, list_entries
from leadsite.models import IngestionEntry, IngestOutcome, Origin

PAGE_SIZE = 25
OUTCOMES = [outcome.value for outcome in IngestOutcome]


@dataclass
class LogView:
    entries: list[IngestionEntry]
    outcome: str | None
    after: str | None
    next_url: str | None
    outcomes: list[str]


def log_view(origin: Origin, args: MultiDict[str, str]) -> LogView:
    """The page of the log that `outcome` and `after` (the last entry shown) ask for; a cursor
    that is not one starts again from the newest."""
    outcome = args.get("outcome") if args.get("outcome") in OUTCOMES else None
    after = args.get("after") or None
    try:
        page = list_entries(origin.id, outcome, after, PAGE_SIZE)
    except InvalidCursor:
        after = None
        page = list_entries(origin.id, outcome, None, PAGE_SIZE)
    next_url = None
    if page.next_cursor:
        next_url = url_for(
            "backoffice.origin_log",
            funnel_id=origin.funnel_id,
            origin_id=origin.id,
            outcome=outcome,
            after=page.next_cursor,
        )
    return LogView(page.entries, outcome, after, next_url, OUTCOMES)
