"""`Idempotency-Key`: a repeat with the same key and body within 24 h gets the first response.

The first request reserves the key before it registers anything: it inserts the key's record
with no answer yet, in a transaction of its own (`INSERT ... ON CONFLICT DO NOTHING`), and fills
the answer in when it has one. A repeat that arrives meanwhile finds the reservation and waits
for that answer, or answers 409 `IDEMPOTENCY_IN_PROGRESS` when it takes too long; it never
registers the lead a second time.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Request, g, make_response, request
from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.wrappers import Response

from leadsite.api.ingest import note
from leadsite.database import begin_write_transaction
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import IdempotencyRecord, utcnow

LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"
# The status code of a reserved key whose first request has not answered yet.
IN_PROGRESS = 0
# How long a repeat waits for the first request's answer before it answers 409, and how often
# it looks. A registration takes milliseconds; seconds mean a queue of them.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
# A reservation this old has lost its request (a killed process): a repeat may take it over.
ABANDONED_AFTER = timedelta(minutes=2)

_records = IdempotencyRecord.__table__


def answer_once(answer: Callable[[], Response]) -> Response:
    """`answer()`, or, when the request carries an `Idempotency-Key`, the first answer given to
    that key: every door that registers (leads, the dialects) answers through this. Calls made
    without an API key (keyless forms) have no key to scope it by, and are answered afresh."""
    key = request.headers.get(HEADER, "").strip()
    api_key_id = g.get("api_key_id")
    if not key or api_key_id is None:
        return answer()
    if len(key) > 255 or "\x00" in key:
        return api_error(
            422,
            f"{HEADER}: at most 255 characters, and no NUL",
            "VALIDATION_ERROR",
            {"field": HEADER, "value": None, "message": "At most 255 characters, and no NUL"},
        )
    reservation = reserve(api_key_id, key, request_fingerprint(request))
    if not isinstance(reservation, str):
        note(code="IDEMPOTENT_REPLAY")
        return reservation  # the first answer, or why there is none to give
    try:
        response = answer()
    except BaseException:
        release(reservation)
        raise
    remember(reservation, response)
    return response


def request_fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode()):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def reserve(api_key_id: str, key: str, fingerprint: str) -> str | Response:
    """Reserve the key for this request and return the reservation's id (register, then call
    `remember` with it), or the response to send instead: the first request's answer replayed,
    a 422 if the key came with another body, a 409 if the first is still at work."""
    deadline = time.monotonic() + WAIT_SECONDS
    record: IdempotencyRecord | None = None
    while True:
        if record is None:  # else waiting for its answer, which only needs a read
            reservation = _insert_reservation(api_key_id, key, fingerprint)
            if reservation is not None:
                return reservation
        record = db.session.scalar(
            select(IdempotencyRecord)
            .filter_by(api_key_id=api_key_id, key=key)
            .execution_options(populate_existing=True)
        )
        if record is None:  # released or expired since the insert: try again
            continue
        age = utcnow() - record.created_at
        if age > LIFETIME or (record.status_code == IN_PROGRESS and age > ABANDONED_AFTER):
            _release(record.id)
            record = None
            continue
        if record.request_hash != fingerprint:
            return api_error(
                422,
                f"This {HEADER} was already used with another request",
                "IDEMPOTENCY_KEY_REUSED",
                {"field": HEADER, "value": key, "message": "Use a new key for a different request"},
            )
        if record.status_code != IN_PROGRESS:
            return _replayed(record)
        if time.monotonic() >= deadline:
            return _in_progress(key)
        db.session.rollback()  # end the snapshot: the next look must see the answer
        time.sleep(POLL_SECONDS)


def remember(reservation: str, response: Response) -> None:
    """Store the first final response in the reservation; free the key when the response is
    not final (rate-limited, a server error: a retry may succeed)."""
    if response.status_code >= 500 or response.status_code == 429:
        release(reservation)
        return
    db.session.rollback()  # whatever the request left open; its registration is committed
    begin_write_transaction()
    db.session.execute(
        update(_records)
        .where(_records.c.id == reservation)
        .values(status_code=response.status_code, response_body=response.get_json())
    )
    db.session.commit()


def release(reservation: str) -> None:
    """Free the key of a request that failed, so that a retry with it registers."""
    db.session.rollback()
    _release(reservation)


def _insert_reservation(api_key_id: str, key: str, fingerprint: str) -> str | None:
    """Insert the key's record with no answer yet, committed at once; None if it exists."""
    db.session.commit()  # end the request's reads: SQLite's writer must start afresh
    begin_write_transaction()
    dialect = db.engine.dialect.name
    statement = (
        postgresql.insert(_records).on_conflict_do_nothing()
        if dialect == "postgresql"
        else sqlite.insert(_records).on_conflict_do_nothing()
        if dialect == "sqlite"
        else insert(_records)
    )
    inserted = db.session.scalar(
        statement.values(
            api_key_id=api_key_id,
            key=key,
            request_hash=fingerprint,
            status_code=IN_PROGRESS,
            response_body={},
        ).returning(_records.c.id)
    )
    db.session.commit()
    return inserted


def _release(record_id: str) -> None:
    db.session.commit()
    begin_write_transaction()
    db.session.execute(delete(_records).where(_records.c.id == record_id))
    db.session.commit()


def _replayed(record: IdempotencyRecord) -> Response:
    response = make_response(json.dumps(record.response_body), record.status_code)
    response.mimetype = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _in_progress(key: str) -> Response:
    response = api_error(
        409,
        f"A request with this {HEADER} is still being processed",
        "IDEMPOTENCY_IN_PROGRESS",
        {"field": HEADER, "value": key, "message": "Retry in a moment to get its response"},
    )
    response.headers["Retry-After"] = "1"
    return response
