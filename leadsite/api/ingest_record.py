"""Log every call a door noted (`api.ingest.note`), once answered.

One `after_request` hook for the whole app: it sees the API's doors under `/api/v1`, the
dialects' blueprints outside it, the hook URLs and the public forms alike. A call is logged
once (the note is taken), and a failure to log never changes the answer.

The hook only captures what the entry is made of (the note, the status, the answer of a
refusal, the request's method, query, body and secret-bearing headers): redacting and writing
it is the log writer's work (`ingestion.writer`), after the answer, in batches.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from flask import Flask, current_app, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from leadsite.analytics.touch import count_api_invalid
from leadsite.api import ingest
from leadsite.api.body import FORM_TYPES
from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.ingestion import redact, redact_text, writer
from leadsite.ingestion.entries import entry_row
from leadsite.ingestion.redact import REDACTED, is_secret_key
from leadsite.models import IngestionEntry, IngestOutcome, Origin
from leadsite.values import load_json

log = logging.getLogger(__name__)

MAX_STORED_CHARS = 16_000
MAX_MESSAGE_CHARS = 2_000
MAX_ERRORS = 50
REPLAYED = "IDEMPOTENT_REPLAY"  # noted by `api.idempotency.answer_once`
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FORM_DIALECT = "form"  # `public.submit.DIALECT`: the forms count their own failures

Pairs = tuple[tuple[str, Any], ...]


def init_app(app: Flask) -> None:
    writer.init_app(app)
    app.before_request(_forget_stale_note)
    app.after_request(record_call)


def _forget_stale_note() -> None:
    # Tests answer several requests in one app context, hence one `g`: a call that raised
    # before it was answered must not lend its note to the next.
    g.pop("ingest_note", None)


def record_call(response: Response) -> Response:
    """Queue the log entry of the call this response answers, if a door noted its origin."""
    call = ingest.take()
    if call is None or call.origin_id is None:
        return response
    if response.status_code == 422:
        _end_transaction()
        _count_invalid(call, response)
    if not current_app.config["INGEST_LOG"]:
        return response
    try:
        _end_transaction()
        writer.add(_capture(call, response))
    except Exception:
        # The path is not logged: a hook URL's path holds its secret.
        log.exception("the ingestion log entry of a call to %s was not queued", request.endpoint)
    return response


def _end_transaction() -> None:
    """End what the request's session still holds uncommitted (a refused call's), as the
    request's end would, before a writer of counts or log entries runs: on SQLite it may hold
    the write lock they need (with no interval, as in the tests, they write in this thread: a
    count made under it waited out the busy timeout, then was lost), or a read's snapshot that
    would not show what they wrote."""
    if db.session().in_transaction():
        db.session.rollback()


def _count_invalid(call: ingest.CallNote, response: Response) -> None:
    """An API door's validation failure counts in the form funnel as a form's does (the
    hosted and embed forms count their own, by input)."""
    if call.dialect == FORM_DIALECT:
        return
    origin = db.session.get(Origin, call.origin_id)
    if origin is None:
        return
    answer = _answer(response) or {}
    listed = answer.get("errors") if isinstance(answer.get("errors"), list) else call.errors
    fields = [str(item.get("field") or "") for item in listed or [] if isinstance(item, dict)]
    count_api_invalid(origin, fields)


def note_registration(lead_id: str, created: bool) -> None:
    """A `RegistrationContext.on_written`: the lead the call touched, as soon as it is written."""
    ingest.note(lead_id=lead_id, created=created)


def created_status(created: bool) -> int:
    """The API's status for a registration: 201 when it created the lead, 200 when it updated."""
    return 201 if created else 200


def _capture(call: ingest.CallNote, response: Response) -> Callable[[], dict[str, Any]]:
    """What the entry is made of, copied from the request now (cheap); the entry's row is made
    from it later, by the log writer (naming, redacting and serialising are the costly part).

    Immutable tuples of strings, kept until the writer's next batch: the cyclic GC stops
    tracking them, so the entries queued between two batches add nothing to its collections."""
    current = request._get_current_object()  # type: ignore[attr-defined]  # one lookup, not ten
    status = response.status_code
    # Only a refusal's answer says more than its status (its code, message and field errors).
    answer = _answer(response) if status >= 400 else None
    environ = current.environ
    headers = tuple((name, value) for name, value in environ.items() if name[:5] == "HTTP_")
    view_args = tuple((current.view_args or {}).items())
    args = tuple(current.args.items(multi=True))
    form: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    raw: bytes | None = None
    try:
        if current.mimetype in FORM_TYPES:
            form = tuple((key, tuple(current.form.getlist(key))) for key in current.form)
        else:
            raw = current.get_data(cache=True)
    except HTTPException:  # over the size limit: the door refused it unread
        pass
    # The time names the entry: ids sort by time, and the log lists the calls in the order
    # they were answered. The id itself is made by the writer, from this time.
    return partial(
        _entry,
        call,
        status,
        answer,
        current.method[:10],
        headers,
        view_args,
        args,
        form,
        raw,
        time.time_ns(),
    )


def _entry(
    call: ingest.CallNote,
    status: int,
    answer: dict[str, Any] | None,
    method: str,
    headers: Pairs,
    view_args: Pairs,
    args: Pairs,
    form: tuple[tuple[str, tuple[str, ...]], ...] | None,
    raw: bytes | None,
    at_ns: int,
) -> dict[str, Any]:
    """The entry's row, from what `_capture` kept (in the log writer's thread)."""
    secrets = _secrets(headers, view_args, args)
    return entry_row(
        {
            **_noted(call, status, answer, secrets),
            "id": new_id(IngestionEntry.id_prefix, at_ns),
            "at": EPOCH + timedelta(microseconds=at_ns // 1000),
            "method": method,
            "query": _query(args, secrets),
            # A replay's body is the first call's, which its own entry keeps.
            "body": None if REPLAYED in call.codes else _body(form, raw, secrets),
        }
    )


def _noted(
    call: ingest.CallNote, status: int, answer: dict[str, Any] | None, secrets: list[str]
) -> dict[str, Any]:
    """The entry's columns that the door noted and the answer said."""
    codes, message, errors = list(call.codes), call.message, list(call.errors)
    if answer is not None:
        code = answer.get("code")
        if isinstance(code, str) and code not in codes:
            codes.insert(0, code)
        said = answer.get("error") if isinstance(answer.get("error"), str) else None
        said = said or (answer.get("message") if isinstance(answer.get("message"), str) else None)
        if said and not message:
            message = said
        if isinstance(answer.get("errors"), list) and not errors:
            errors = [
                {"field": str(item.get("field", "")), "message": str(item.get("message", ""))}
                for item in answer["errors"]
                if isinstance(item, dict)
            ]
    return {
        "workspace_id": call.workspace_id or _workspace_of(call.origin_id or ""),
        "origin_id": call.origin_id,
        "lead_id": call.lead_id,
        "dialect": call.dialect[:40],
        "outcome": call.outcome or _outcome(status, call.created),
        "status": status,
        "codes": codes[:20],
        "message": redact_text(message[:MAX_MESSAGE_CHARS], secrets) if message else None,
        "details": _details(call, errors, secrets),
    }


def _details(
    call: ingest.CallNote, errors: list[dict[str, Any]], secrets: list[str]
) -> dict[str, Any] | None:
    details: dict[str, Any] = {}
    if errors:
        details["errors"] = redact(errors[:MAX_ERRORS], secrets)
    if call.counts is not None:
        details["counts"] = call.counts
    return details or None


def _outcome(status: int, created: bool | None) -> str:
    if status >= 500:
        return IngestOutcome.ERROR
    if status >= 400:
        return IngestOutcome.REJECTED
    if created is None:
        created = status == 201
    return IngestOutcome.CREATED if created else IngestOutcome.UPDATED


def _answer(response: Response) -> dict[str, Any] | None:
    if not response.is_json or response.is_streamed:
        return None
    body = response.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _workspace_of(origin_id: str) -> str:
    origin = db.session.get(Origin, origin_id)
    assert origin is not None
    return origin.workspace_id


def _secrets(headers: Pairs, view_args: Pairs, args: Pairs) -> list[str]:
    """Values the request carried that must not be kept anywhere in its entry."""
    found: list[str] = []
    for name, value in headers:
        if name == "HTTP_AUTHORIZATION" or is_secret_key(name[5:]):
            found.append(value)
            found.extend(part for part in value.split() if len(part) >= 8)
    for name, value in view_args:
        if is_secret_key(name) and isinstance(value, str):
            found.append(value)
    for name, value in args:
        if is_secret_key(name):
            found.append(value)
    # Longest first: a secret that contains a shorter one is replaced whole.
    return sorted({s for s in found if s}, key=len, reverse=True)


def _query(args: Pairs, secrets: list[str]) -> str | None:
    pairs = [
        (name, REDACTED if is_secret_key(name) else redact_text(value, secrets))
        for name, value in args
    ]
    return urlencode(pairs)[:MAX_STORED_CHARS] if pairs else None


def _body(
    form: tuple[tuple[str, tuple[str, ...]], ...] | None, raw: bytes | None, secrets: list[str]
) -> str | None:
    kept = None
    if form:
        fields = {key: list(items) if len(items) > 1 else items[0] for key, items in form}
        kept = json.dumps(redact(fields, secrets), ensure_ascii=False)
    elif raw:
        text = raw.decode("utf-8", "replace")
        kept = _json_or_text(text, secrets) if text.strip() else None
    if kept is not None and len(kept) > MAX_STORED_CHARS:
        kept = kept[:MAX_STORED_CHARS] + " [truncated]"
    return kept


def _json_or_text(raw: str, secrets: list[str]) -> str:
    try:
        parsed = load_json(raw)
    except ValueError:
        return redact_text(raw, secrets)
    return json.dumps(redact(parsed, secrets), ensure_ascii=False)
