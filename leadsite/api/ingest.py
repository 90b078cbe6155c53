"""What a door learned about the call it is answering, for the origin's ingestion log.

Every door that registers leads (`POST /api/v1/leads`, each dialect in `api/dialects/`, the
mapped origins' hook URLs) calls `note()` as soon as it knows the origin, and again when it knows
the lead it touched. The ingestion log reads `current()` once the response is made; a door that
never resolved an origin is logged nowhere (there is no origin page to show it on).

The outcome follows from the answer (201 created, another 2xx updated, 4xx rejected, 5xx error)
unless the door says better: `created=` when its success status does not tell (a dialect that
answers 200 either way), `outcome="rejected"` for a call answered 2xx that registered nobody
(a bot's form). JSON answers in the API's envelope give their code and message themselves;
doors that answer HTML note theirs (`code=`, `message=`, `errors=`).

The entry is captured once the call is answered (`api.ingest_record.record_call`) and written
by the log writer (`ingestion.writer`) after the answer, in batches. A door that registers sets
`context.on_written = note_registration`, so that the lead is noted even when the call is then
answered otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import g


@dataclass
class CallNote:
    dialect: str = "leadsite"
    origin_id: str | None = None
    workspace_id: str | None = None
    lead_id: str | None = None
    codes: list[str] = field(default_factory=list)
    created: bool | None = None
    outcome: str | None = None
    message: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] | None = None  # a batch's: created, updated, rejected


def note(
    *,
    dialect: str | None = None,
    origin_id: str | None = None,
    workspace_id: str | None = None,
    lead_id: str | None = None,
    code: str | None = None,
    created: bool | None = None,
    outcome: str | None = None,
    message: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    counts: dict[str, int] | None = None,
) -> CallNote:
    """Record what is known so far about this call; later calls add to earlier ones."""
    current_note = g.get("ingest_note")
    if current_note is None:
        current_note = g.ingest_note = CallNote()
    if dialect is not None:
        current_note.dialect = dialect
    if origin_id is not None:
        current_note.origin_id = origin_id
    if workspace_id is not None:
        current_note.workspace_id = workspace_id
    if lead_id is not None:
        current_note.lead_id = lead_id
    if code is not None and code not in current_note.codes:
        current_note.codes.append(code)
    if created is not None:
        current_note.created = created
    if outcome is not None:
        current_note.outcome = outcome
    if message is not None:
        current_note.message = message
    if errors:
        current_note.errors.extend(errors)
    if counts is not None:
        current_note.counts = counts
    return current_note


def current() -> CallNote | None:
    """The note of the call being answered, if its door made one."""
    return g.get("ingest_note")


def take() -> CallNote | None:
    """The note of the call being answered, removed: a call is logged once."""
    return g.pop("ingest_note", None)
