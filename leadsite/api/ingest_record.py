"""Write the ingestion log entry of every call a door noted (`api.ingest.note`), once answered.

One `after_request` hook for the whole app: it sees the API's doors under `/api/v1`, the
dialects' blueprints outside it, the hook URLs and the public forms alike. A call is logged
once (the note is taken), and a failure to log never changes the answer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from leadsite.api import ingest
from leadsite.api.body import FORM_TYPES
from leadsite.extensions import db
from leadsite.ingestion import insert_entry, redact, redact_text, write_entry
from leadsite.ingestion.redact import REDACTED, is_secret_key
from leadsite.models import IngestOutcome, Origin

log = logging.getLogger(__name__)

MAX_STORED_CHARS = 16_000
MAX_MESSAGE_CHARS = 2_000
MAX_ERRORS = 50


def init_app(app: Flask) -> None:
    app.before_request(_forget_stale_note)
    app.after_request(record_call)


def _forget_stale_note() -> None:
    # Tests answer several requests in one app context, hence one `g`: a call that raised
    # before it was answered must not lend its note to the next.
    g.pop("ingest_note", None)


def record_call(response: Response) -> Response:
    """Log the call this response answers, if a door noted the origin it came through."""
    call = ingest.take()
    if call is None or call.origin_id is None:
        return response
    if call.written_id is not None and call.written_status == response.status_code:
        return response  # written with the registration, as answered
    try:
        write_entry(entry_values(call, response), replacing=call.written_id)
    except Exception:
        # The path is not logged: a hook URL's path holds its secret.
        log.exception("the ingestion log entry of a call to %s was not written", request.endpoint)
    return response


def created_status(created: bool) -> int:
    """The API's status for a registration: 201 when it created the lead, 200 when it updated."""
    return 201 if created else 200


def log_in_registration(status_of: Callable[[bool], int]) -> Callable[[str, bool], None] | None:
    """A `RegistrationContext.on_written` that writes the call's entry in the registration's
    own transaction, answered `status_of(created)`: no second turn for the write lock.

    The request's part of the entry (its redacted body) is made now, before the registration
    takes the lock. Should the call be answered otherwise after all, `record_call` replaces
    the entry; a registration that fails never calls it, and `record_call` writes that entry.
    """
    call = ingest.current()
    if call is None or call.origin_id is None:
        return None
    secrets = _request_secrets()
    request_part = {"method": request.method[:10], "query": _query(secrets), "body": _body(secrets)}

    def write(lead_id: str, created: bool) -> None:
        status = status_of(created)
        call.lead_id, call.created = lead_id, created
        call.written_id = insert_entry(
            {
                "workspace_id": call.workspace_id or _workspace_of(call.origin_id),
                "origin_id": call.origin_id,
                "lead_id": lead_id,
                "dialect": call.dialect[:40],
                "outcome": call.outcome or _outcome(status, created),
                "status": status,
                "codes": list(call.codes),
                **request_part,
            }
        )
        call.written_status = status

    return write


def entry_values(call: ingest.CallNote, response: Response) -> dict[str, Any]:
    """The entry's columns: what the door noted, what the answer said, the redacted request."""
    status = response.status_code
    codes, message, errors = list(call.codes), call.message, list(call.errors)
    failed = status >= 400
    # Only a refusal's answer says more than its status (its code, message and field errors).
    answer = _answer(response) if failed else None
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
    secrets = _request_secrets()
    return {
        "workspace_id": call.workspace_id or _workspace_of(call.origin_id),
        "origin_id": call.origin_id,
        "lead_id": call.lead_id,
        "dialect": call.dialect[:40],
        "outcome": call.outcome or _outcome(status, call.created),
        "status": status,
        "codes": codes[:20],
        "message": redact_text(message[:MAX_MESSAGE_CHARS], secrets) if message else None,
        "method": request.method[:10],
        "query": _query(secrets),
        # A replay's body is the first call's, which its own entry keeps (and erasure clears).
        "body": None if REPLAYED in codes else _body(secrets),
        "details": {"errors": redact(errors[:MAX_ERRORS], secrets)} if errors else None,
    }


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


def _request_secrets() -> list[str]:
    """Values this request carries that must not be kept anywhere in its entry."""
    found: list[str] = []
    for name, value in request.environ.items():
        if name.startswith("HTTP_") and (name == "HTTP_AUTHORIZATION" or is_secret_key(name[5:])):
            found.append(value)
            found.extend(part for part in value.split() if len(part) >= 8)
    for name, value in (request.view_args or {}).items():
        if is_secret_key(name) and isinstance(value, str):
            found.append(value)
    for name, value in request.args.items(multi=True):
        if is_secret_key(name):
            found.append(value)
    # Longest first: a secret that contains a shorter one is replaced whole.
    return sorted({s for s in found if s}, key=len, reverse=True)


def _query(secrets: list[str]) -> str | None:
    pairs = [
        (name, REDACTED if is_secret_key(name) else redact_text(value, secrets))
        for name, value in request.args.items(multi=True)
    ]
    return urlencode(pairs)[:MAX_STORED_CHARS] if pairs else None


REPLAYED = "IDEMPOTENT_REPLAY"  # noted by `api.idempotency.answer_once`


def _body(secrets: list[str]) -> str | None:
    try:
        if request.mimetype in FORM_TYPES:
            form = {
                key: items if len(items := request.form.getlist(key)) > 1 else items[0]
                for key in request.form
            }
            kept = json.dumps(redact(form, secrets), ensure_ascii=False) if form else None
        else:
            raw = request.get_data(cache=True).decode("utf-8", "replace")
            kept = _json_or_text(raw, secrets) if raw.strip() else None
    except HTTPException:  # over the size limit: the door refused it unread
        return None
    if kept is not None and len(kept) > MAX_STORED_CHARS:
        kept = kept[:MAX_STORED_CHARS] + " [truncated]"
    return kept


def _json_or_text(raw: str, secrets: list[str]) -> str:
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return redact_text(raw, secrets)
    return json.dumps(redact(parsed, secrets), ensure_ascii=False)
