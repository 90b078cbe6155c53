"""`Idempotency-Key`: a repeat with the same key and body within 24 h gets the first response.

The first request reserves the key before it registers anything: it inserts the key's record
with no answer yet, in a transaction of its own (`INSERT ... ON CONFLICT DO NOTHING`), and fills
the answer in when it has one. A repeat that arrives meanwhile finds the reservation and waits
for that answer, or answers 409 `IDEMPOTENCY_IN_PROGRESS` when it takes too long; it never
registers the lead a second time.

The answer is stored in a transaction after the registration's, so a process that dies between
the two (kill -9, the database gone) would leave a reservation with no answer. The registration
itself is therefore written on the reservation in its own transaction (`registered`: the leads
the request wrote, and whether it created them, set by the doors' `on_written` through
`record_written`). A repeat that finds a reservation with no answer but a registration answers
from it (the door's `replay`) once the request is gone by the rules below (or failed: `ENDED`),
stores that answer, and never registers again; before that it waits for the request's own
answer, as the lead may have changed since it was registered. Only a reservation with nothing
registered is taken over: older than `IDEMPOTENCY_ABANDONED_AFTER`, or once its holder is gone
and the reservation is older than `IDEMPOTENCY_HOLDER_GRACE` (10 s). The holder is, on
PostgreSQL, the database connection that made it (gone when its process was killed, or the
database restarted), and on SQLite the process itself (on the same host: SQLite's writers share
one). The grace is there because a live request can lose that connection too: the pool closes
an overflow connection given back after the reservation's commit, while the request goes on to
register on another; a registration is done well within 10 s.

A takeover is safe even when its holder lives on (a connection closed by its pool, a request
slower than `IDEMPOTENCY_ABANDONED_AFTER`): the holder's registration writes on its own
reservation in its transaction, and when that reservation is no longer there the registration
rolls back (`ReservationLost`) and the holder answers 409 `IDEMPOTENCY_IN_PROGRESS`, so that the
key registers once, by whoever holds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Request, current_app, g, jsonify, make_response, request
from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from leadsite.api.ingest import note
from leadsite.database import begin_write_transaction
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import IdempotencyRecord, Journey, Lead, utcnow
from leadsite.representations import journey_summary, lead_dict

LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"
# The status code of a reserved key whose first request has not answered yet.
IN_PROGRESS = 0
# How long a repeat waits for the first request's answer before it answers 409, and how often
# it looks. A registration takes milliseconds; seconds mean a queue of them.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
# A reservation this old, with nothing registered, has lost its request (a killed process): a
# repeat may take it over. The default of the `IDEMPOTENCY_ABANDONED_AFTER` setting (seconds).
ABANDONED_AFTER = timedelta(minutes=2)
# How often a repeat looks whether a reservation's holder (connection or process) is still there,
# and how old a reservation must be before its end counts (`IDEMPOTENCY_HOLDER_GRACE`).
HOLDER_CHECK_SECONDS = 0.25
HOLDER_GRACE = timedelta(seconds=10)
# The body of a reservation whose request registered, then failed without an answer.
ENDED = {"ended": True}

_records = IdempotencyRecord.__table__

# What a request registered: [index in the request, lead id, created], as `registered` keeps it.
Registered = list[list[Any]]
# A door's answer rebuilt from what its request registered, when that answer was lost.
Replay = Callable[[Registered], Response]


class ReservationLost(Exception):
    """This request's reservation was taken over while it registered (its connection looked
    dead): its registration must not commit, the key's new holder registers."""


@dataclass
class Recorded:
    """A reservation whose request registered but whose answer was never stored."""

    id: str
    registered: Registered


def answer_once(answer: Callable[[], Response], replay: Replay | None = None) -> Response:
    """`answer()`, or, when the request carries an `Idempotency-Key`, the first answer given to
    that key: every door that registers (leads, the dialects) answers through this. Calls made
    without an API key (keyless forms) have no key to scope it by, and are answered afresh.
    `replay` rebuilds the door's answer from what a first request registered, should that
    request have died before storing its answer (default: the leads API's envelope)."""
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
    if isinstance(reservation, Recorded):
        note(code="IDEMPOTENT_REPLAY")
        response = (replay or lead_answer)(reservation.registered)
        remember(reservation.id, response)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    if not isinstance(reservation, str):
        note(code="IDEMPOTENT_REPLAY")
        return reservation  # the first answer, or why there is none to give
    session = db.session()
    g.idempotency_reservation = reservation
    g.idempotency_written = {}
    event.listen(session, "before_commit", _store_written)
    event.listen(session, "after_rollback", _forget_written)
    try:
        try:
            response = answer()
        finally:  # what commits after the answer (its own bookkeeping) records nothing
            event.remove(session, "before_commit", _store_written)
            event.remove(session, "after_rollback", _forget_written)
            g.pop("idempotency_written", None)
            g.pop("idempotency_answer", None)
    except ReservationLost:
        db.session.rollback()
        return _in_progress(key)  # the key's new holder answers it; a retry gets that answer
    except BaseException:
        release(reservation)
        raise
    remember(reservation, response)
    return response


def record_written(lead_id: str, created: bool, index: int = 0) -> None:
    """A `RegistrationContext.on_written` (with `index`, the item's place in a batch): keeps
    what the request registered, written on its reservation by the registration's commit."""
    written = g.get("idempotency_written")
    if written is not None:
        written[index] = (lead_id, created)


def record_answer(status_code: int, body: dict[str, Any]) -> None:
    """The request's whole answer, known before its registration commits (the batch's): it is
    stored on the reservation by that commit, as `remember` would store it after."""
    if g.get("idempotency_written") is not None:
        # As `jsonify` would send it (its dates as text): what `remember` stores after.
        g.idempotency_answer = (status_code, json.loads(current_app.json.dumps(body)))


def _store_written(session: Session) -> None:
    """Before a commit during the answer: what was registered so far (or the whole answer) goes
    on the reservation, in the same transaction as the registration."""
    written = g.get("idempotency_written")
    answer = g.pop("idempotency_answer", None)
    values: dict[str, Any] = {}
    if written:
        values["registered"] = [[index, *written[index]] for index in sorted(written)]
        written.clear()
    if answer is not None:
        values["status_code"], values["response_body"] = answer
    if values:
        updated = session.execute(
            update(_records).where(_records.c.id == g.idempotency_reservation).values(**values)
        )
        if updated.rowcount == 0:  # taken over: the registration must not commit
            raise ReservationLost(g.idempotency_reservation)


def _forget_written(session: Session) -> None:
    """A rolled-back registration wrote nothing (a retried one records itself again)."""
    written = g.get("idempotency_written")
    if written:
        written.clear()
    g.pop("idempotency_answer", None)


def lead_answer(registered: Registered, funnel_id: str | None = None) -> Response:
    """The leads API's answer to a registration of one lead (its journey in `funnel_id`),
    rebuilt from the lead as it is: what `POST /leads?ref=` answered, but for `warnings`
    (not kept)."""
    (_, lead_id, created), *_ = registered
    lead = db.session.get(Lead, lead_id)
    if lead is None:  # erased since
        return jsonify(success=True, erased=True, data={"id": lead_id})
    journeys = select(Journey).where(Journey.lead_id == lead_id)
    if funnel_id is not None:
        journeys = journeys.where(Journey.funnel_id == funnel_id)
    journey = db.session.scalars(journeys.limit(1)).first()
    data: dict[str, Any] = lead_dict(lead)
    if journey is not None:
        data["journey"] = journey_summary(journey)
    response = jsonify(success=True, created=created, data=data, warnings=[])
    response.status_code = 201 if created else 200
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
    holder = _HolderCheck()
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
        abandoned = record.status_code == IN_PROGRESS and not record.registered
        if age > LIFETIME:
            _release(record.id)
            record = None
            continue
        if abandoned and age > _abandoned_after():
            _take_over(record.id)
            record = None
            continue
        if abandoned and holder.due(age):
            record_id = record.id  # `holder.gone` ends the transaction, which expires `record`
            if holder.gone(record):
                _take_over(record_id)
                record = None
                continue
            continue  # read it again (no insert): answered, released or taken meanwhile?
        if record.request_hash != fingerprint:
            return api_error(
                422,
                f"This {HEADER} was already used with another request",
                "IDEMPOTENCY_KEY_REUSED",
                {"field": HEADER, "value": key, "message": "Use a new key for a different request"},
            )
        if record.status_code != IN_PROGRESS:
            return _replayed(record)
        # Registered, but its answer is not stored: lost (its request failed after the commit,
        # or died), or on its way. Only a lost one is rebuilt from the lead: the first request
        # answers from the lead as it registered it, and the worker may have changed the lead
        # since (a tag, the journey's next stage); rebuilt while the first request stored its
        # answer, a repeat got another answer than the first (under load, one repeat of 20 in
        # `tests/concurrency/test_idempotency.py`).
        if record.registered:
            if _ended(record) or age > _abandoned_after():
                return Recorded(record.id, record.registered)
            if holder.due(age):
                record_id, registered = record.id, record.registered  # expired by the check
                if holder.gone(record):
                    return Recorded(record_id, registered)
        if time.monotonic() >= deadline:
            return _in_progress(key)
        db.session.rollback()  # end the snapshot: the next look must see the answer
        time.sleep(POLL_SECONDS)


class _HolderCheck:
    """A waiting repeat's looks for the reservation's holder (its connection or process):
    once the reservation is older than `IDEMPOTENCY_HOLDER_GRACE`, at most every
    `HOLDER_CHECK_SECONDS`."""

    def __init__(self) -> None:
        self.checked = 0.0

    def due(self, age: timedelta) -> bool:
        return (
            age > _setting("IDEMPOTENCY_HOLDER_GRACE", HOLDER_GRACE)
            and time.monotonic() - self.checked >= HOLDER_CHECK_SECONDS
        )

    def gone(self, record: IdempotencyRecord) -> bool:
        """Whether the holder is gone; ends the session's transaction (`record` expires)."""
        self.checked = time.monotonic()
        return _holder_gone(record.response_body)


def remember(reservation: str, response: Response) -> None:
    """Store the first final response in the reservation; free the key when the response is
    not final (rate-limited, a server error: a retry may succeed), unless the request did
    register (a retry then answers from the registration)."""
    if response.status_code >= 500 or response.status_code == 429:
        release(reservation)
        return
    db.session.rollback()  # whatever the request left open; its registration is committed
    begin_write_transaction()
    db.session.execute(
        update(_records)
        # The first answer stored stays: a repeat that answered from the registration (its
        # holder taken for dead) may have stored its own.
        .where(_records.c.id == reservation, _records.c.status_code == IN_PROGRESS)
        .values(status_code=response.status_code, response_body=response.get_json())
    )
    db.session.commit()


def release(reservation: str) -> None:
    """Free the key of a request that failed, so that a retry with it registers; a request
    that registered before it failed keeps its key, for the retry to answer from at once
    (marked `ENDED`: no answer of its own is coming)."""
    db.session.rollback()
    _release(reservation, unless_registered=True)
    begin_write_transaction()
    db.session.execute(
        update(_records)
        .where(_records.c.id == reservation, _records.c.status_code == IN_PROGRESS)
        .values(response_body=ENDED)
    )
    db.session.commit()


def _ended(record: IdempotencyRecord) -> bool:
    """Whether the reservation's request ended without storing an answer (`release`)."""
    return record.response_body == ENDED


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
            # While in progress the body names who holds the key: see `_holder`.
            response_body=_holder(),
        ).returning(_records.c.id)
    )
    db.session.commit()
    return inserted


def _holder() -> dict[str, Any]:
    """Who inserts a reservation, for `_holder_gone`. On PostgreSQL the connection: its
    backend's pid and start (read once per connection). The backend ends when the process that
    holds the reservation dies (its sockets close) and when the database restarts, which end the
    request too; and when a pool closes the connection under a request that goes on
    (`ReservationLost`). On SQLite, whose writers all run on its host, the process: its host
    name, pid and start, as the kernel counts it."""
    if db.engine.dialect.name != "postgresql":
        return {"process": _this_process()}
    connection = db.session.connection()
    holder = connection.info.get("idempotency_holder")
    if holder is None:
        pid, since = connection.execute(
            text(
                "SELECT pid, backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()"
            )
        ).one()
        holder = connection.info["idempotency_holder"] = {"pid": pid, "since": since}
    return {"holder": holder}


def _this_process() -> dict[str, Any]:
    pid = os.getpid()  # read each time: gunicorn's workers are forks of one process
    return {"host": socket.gethostname(), "pid": pid, "since": _process_start(pid)}


def _process_start(pid: int) -> str | None:
    """When the process `pid` started, in clock ticks since boot (field 22 of Linux's
    `/proc/<pid>/stat`, after the parenthesized command name): with the pid, it names one
    process even once the pid is reused. None where there is no such file (not Linux, or no
    such process)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return fields[19].decode()


def _holder_gone(body: dict[str, Any] | None) -> bool:
    """Whether the connection (PostgreSQL) or the process (SQLite) that made a reservation is
    gone (False when it is not named, as in reservations of an earlier release, or when the
    process ran on another host: only its own host can see it)."""
    process = (body or {}).get("process")
    if process and db.engine.dialect.name != "postgresql":
        return _process_gone(process)
    holder = (body or {}).get("holder")
    if not holder or db.engine.dialect.name != "postgresql":
        return False
    # A backend of another role shows no start to a role without pg_read_all_stats: alive.
    alive = db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"
            " AND (backend_start IS NULL OR backend_start = CAST(:since AS timestamptz))"
        ),
        {"pid": holder["pid"], "since": holder["since"]},
    )
    db.session.rollback()
    return not alive


def _process_gone(process: dict[str, Any]) -> bool:
    db.session.rollback()  # as the PostgreSQL look does: the caller reads the record again
    if process.get("host") != socket.gethostname():
        return False
    pid, since = process["pid"], _process_start(process["pid"])
    if since is not None and process.get("since") is not None:
        return since != process["since"]  # another process has the pid now
    try:
        os.kill(pid, 0)  # no signal sent: whether the pid is there
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process: there
        return False
    return False


def _take_over(record_id: str) -> None:
    """Delete a reservation whose request is taken for dead, unless it has registered or
    answered meanwhile (on PostgreSQL the delete waits for the holder's registration and sees
    what it wrote; the holder whose reservation is gone cannot commit one: `_store_written`)."""
    db.session.commit()
    begin_write_transaction()
    db.session.execute(
        delete(_records).where(
            _records.c.id == record_id,
            _records.c.status_code == IN_PROGRESS,
            _records.c.registered.is_(None),
        )
    )
    db.session.commit()


def _release(record_id: str, unless_registered: bool = False) -> None:
    db.session.commit()
    begin_write_transaction()
    statement = delete(_records).where(_records.c.id == record_id)
    if unless_registered:
        statement = statement.where(_records.c.registered.is_(None))
    db.session.execute(statement)
    db.session.commit()


def _abandoned_after() -> timedelta:
    return _setting("IDEMPOTENCY_ABANDONED_AFTER", ABANDONED_AFTER)


def _setting(name: str, default: timedelta) -> timedelta:
    seconds = current_app.config.get(name)
    return default if seconds is None else timedelta(seconds=float(seconds))


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
