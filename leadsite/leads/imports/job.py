"""CSV import, the job: a worker claims an import with a lease and registers it a chunk at a time.

Each chunk is one `register_many()` batch: its leads, its refused rows, the counts and the next
chunk's start (`next_row`) commit in one transaction (its `before_commit`), so a job taken over
after its worker died runs the chunk again whole, and registers no row twice. A chunk that fails
as a whole runs again row by row, each row committed with the progress it makes (`chunk_done`,
through `lead_import_progress`). The lease token fences a worker whose lease was taken over: its
next commit finds the token changed and is rolled back (`LeaseLost`).
"""

from __future__ import annotations

import gc
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import DBAPIError

from leadsite.access.members import still_a_member
from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.leads.imports import upload
from leadsite.leads.imports.progress import LeaseLost, Progress, StarterGone, Tracked
from leadsite.leads.imports.rows import RowInput, outcome_reasons, row_input
from leadsite.leads.imports.upload import chunk_rows
from leadsite.leads.staff_origins import staff_origin
from leadsite.models import (
    Funnel,
    ImportStatus,
    LeadImport,
    LeadImportChunk,
    LeadImportRejection,
    Origin,
    OriginKind,
    User,
    Workspace,
    utcnow,
)
from leadsite.registration import RegistrationContext
from leadsite.registration.batch import Outcome, register_many

log = logging.getLogger(__name__)

SLICE_SECONDS = 2.0  # a worker's turn on an import before it looks at its other work again
UNEXPECTED = "An unexpected error; the row was not imported."


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["WORKER_LEASE_SECONDS"])


def claim(lease: timedelta | None = None) -> tuple[str, str] | None:
    """Lease the oldest queued import that no live worker holds: (its id, the lease token)."""
    now, token = utcnow(), secrets.token_hex(8)
    due = (
        db.select(LeadImport.id)
        .where(
            LeadImport.status == ImportStatus.QUEUED,
            db.or_(LeadImport.locked_until.is_(None), LeadImport.locked_until < now),
        )
        .order_by(LeadImport.created_at)
        .limit(1)
    )
    # Mostly there is none: a read says so without taking SQLite's write lock 5 times a second.
    found = db.session.scalar(due)
    db.session.commit()
    if found is None:
        return None
    begin_write_transaction()
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = db.session.scalar(
        update(LeadImport)
        .where(LeadImport.id.in_(due.scalar_subquery()))
        .values(
            locked_until=now + (lease or _lease()),
            lease_token=token,
            started_at=db.func.coalesce(LeadImport.started_at, now),
        )
        .returning(LeadImport.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return (claimed, token) if claimed else None


def release(job_id: str, token: str) -> None:
    """Give the lease back (the job stays queued for the next turn, of any worker)."""
    db.session.rollback()
    begin_write_transaction()
    db.session.execute(
        update(LeadImport)
        .where(LeadImport.id == job_id, LeadImport.lease_token == token)
        .values(locked_until=None, lease_token=None)
    )
    db.session.commit()


def _origin(job: LeadImport) -> Origin | None:
    if job.origin_id:
        origin = db.session.get(Origin, job.origin_id)
        return origin if origin is not None and origin.workspace_id == job.workspace_id else None
    funnel = db.session.get(Funnel, job.funnel_id) if job.funnel_id else None
    if funnel is None or funnel.workspace_id != job.workspace_id:
        return None
    origin = staff_origin(funnel, OriginKind.IMPORT)
    db.session.commit()
    return origin


def _starter_guard(job: LeadImport) -> Callable[[], None]:
    """What each of the chunk's transactions runs before it writes (and again before it
    commits): raise `StarterGone` when the user who started the import is no longer an active
    member of its workspace (membership deactivated or removed, user deactivated). The import
    works on their behalf, so it stops when their access does: at the chunk under way, whose
    rows are not kept, as none of the chunks after. An import from the shell has no starter.
    On PostgreSQL the first read locks the membership FOR SHARE, before the chunk's writes
    (in the order every member's change takes), so a deactivation waits for the chunk, or the
    chunk for it and then sees it; on SQLite the read before the commit holds the write lock."""
    job_id, user_id, workspace_id = job.id, job.user_id, job.workspace_id

    def guard() -> None:
        if user_id is None or still_a_member(user_id, workspace_id):
            return
        email = db.session.scalar(db.select(User.email).filter_by(id=user_id))
        name = db.session.scalar(db.select(Workspace.name).filter_by(id=workspace_id))
        who = email or "The user who started it"
        raise StarterGone(
            job_id,
            f"{who}, who started this import, no longer has access to {name}; "
            "no row was imported after that.",
        )

    return guard


def _rejection(
    job_id: str, index: int, number: int, prepared: RowInput, cells: list[str], reasons: list[str]
) -> dict[str, Any]:
    return {
        "import_id": job_id,
        "row_index": index,
        "number": number,
        "label": (prepared.label or "")[:300],
        "cells": cells,
        "reasons": reasons,
    }


def _register_rows(
    origin: Origin,
    todo: list[tuple[int, int, list[str], RowInput]],
    progress: Progress,
    actor_id: str | None,
) -> list[Outcome | None]:
    """Outcomes of the rows in `todo` one at a time, each committed with the progress it makes
    (after a chunk that failed as a whole); None: committed before, by an earlier attempt."""
    context = RegistrationContext(actor_id=actor_id, on_written=progress.written)
    outcomes: list[Outcome | None] = []
    for index, _, _, prepared in todo:
        if index in progress.done:
            outcomes.append(None)
            continue
        progress.tracked = Tracked([prepared.lead_input], [index])
        try:
            if progress.guard is not None:
                progress.guard()  # PostgreSQL: the membership's lock first (see there)
            with progress.listening():
                [outcome] = register_many(origin, progress.tracked, context)
        except (LeaseLost, StarterGone):
            raise
        except Exception:
            db.session.rollback()
            log.exception("import %s: row %s failed", progress.job_id, index)
            outcome = Outcome(status="rejected", code="UNEXPECTED", message=UNEXPECTED)
        outcomes.append(outcome)
    return outcomes


def _end(job: LeadImport, token: str, status: ImportStatus, error: str | None = None) -> None:
    db.session.rollback()
    begin_write_transaction()
    db.session.execute(
        update(LeadImport)
        .where(LeadImport.id == job.id, LeadImport.lease_token == token)
        .values(status=status, finished_at=utcnow(), error=error, locked_until=None)
    )
    db.session.execute(delete(LeadImportChunk).where(LeadImportChunk.import_id == job.id))
    db.session.commit()


def run_chunk(job_id: str, token: str) -> bool:
    """Register the import's next chunk; False when the import has ended (or is not ours)."""
    db.session.rollback()
    job = db.session.get(LeadImport, job_id, populate_existing=True)
    if job is None or job.lease_token != token or job.status != ImportStatus.QUEUED:
        return False
    if job.cancel_requested:
        _end(job, token, ImportStatus.CANCELLED)
        return False
    chunk = db.session.scalar(
        db.select(LeadImportChunk).filter_by(import_id=job.id, first_row=job.next_row)
    )
    if chunk is None:
        _end(job, token, ImportStatus.FINISHED)
        return False
    origin = _origin(job)
    if origin is None:
        _end(job, token, ImportStatus.FAILED, "The funnel (or origin) of this import was deleted.")
        return False
    guard = _starter_guard(job)
    progress = Progress(
        job.id,
        token,
        _lease(),
        job.created_count,
        job.updated_count,
        done=set(job.chunk_done or []),
        guard=guard,
    )
    rejected, todo = [], []
    for index, number, cells in chunk_rows(job, chunk):
        if index in progress.done:
            continue
        prepared = row_input(job.columns, job.mapping, cells)
        if prepared.problems:
            rejected.append(_rejection(job.id, index, number, prepared, cells, prepared.problems))
        else:
            todo.append((index, number, cells, prepared))
    end = chunk.first_row + chunk.row_count
    finished = end >= job.row_count
    created_count = progress.base_created  # the job's, as the chunk's transaction writes it

    def finish_chunk(outcomes: list[Outcome | None]) -> None:
        """The chunk's end, in the transaction that commits its registrations: the counts, its
        refused rows, and the next chunk's start, fenced by the lease token and by the starter's
        access."""
        nonlocal created_count
        guard()
        refused = list(rejected)
        created, updated = progress.created, progress.updated
        for (index, number, cells, prepared), outcome in zip(todo, outcomes, strict=True):
            if outcome is None:
                continue
            if outcome.status == "rejected":
                reasons = outcome_reasons(outcome, prepared.columns)
                refused.append(_rejection(job.id, index, number, prepared, cells, reasons))
            elif index not in progress.done:  # not counted yet by a row's own transaction
                created += outcome.created
                updated += not outcome.created
        if refused:
            db.session.execute(insert(LeadImportRejection), refused)
        created_count = progress.base_created + created
        result = db.session.execute(
            update(LeadImport)
            .where(LeadImport.id == job.id, LeadImport.lease_token == token)
            .values(
                next_row=end,
                chunk_done=[],
                created_count=created_count,
                updated_count=progress.base_updated + updated,
                rejected_count=LeadImport.rejected_count + len(refused),
                locked_until=None if finished else utcnow() + progress.lease,
                status=ImportStatus.FINISHED if finished else ImportStatus.QUEUED,
                finished_at=utcnow() if finished else None,
            )
        )
        if result.rowcount != 1:
            raise LeaseLost(job.id)
        db.session.execute(
            delete(LeadImportChunk).filter_by(import_id=job.id, first_row=chunk.first_row)
        )

    # The chunk is one batch: its leads, its progress and its refused rows commit together, so a
    # worker killed meanwhile leaves none of it, and the job taken over runs it again whole.
    recorded = False

    def finish_batch(outcomes: list[Outcome]) -> None:
        nonlocal recorded
        recorded = True
        finish_chunk(list(outcomes))

    try:
        guard()  # before the chunk's work: on PostgreSQL, the lock's order (see `_starter_guard`)
        returned: list[Outcome | None] = []
        try:
            if todo:
                context = RegistrationContext(actor_id=job.user_id)
                inputs = [item[3].lead_input for item in todo]
                returned = list(register_many(origin, inputs, context, before_commit=finish_batch))
        except (LeaseLost, StarterGone):
            raise
        except Exception:  # one bad row must not stop the import, nor repeat forever: row by row
            db.session.rollback()
            log.exception("import %s: a chunk failed; its rows are run one at a time", job.id)
            outcomes = _register_rows(origin, todo, progress, job.user_id)
            begin_write_transaction()
            finish_chunk(outcomes)
            db.session.commit()
            return not finished
        if not recorded:  # every row refused before any write: no batch transaction was opened
            begin_write_transaction()
            finish_chunk(returned)
            db.session.commit()
    except StarterGone as gone:
        db.session.rollback()  # nothing of the chunk under way is kept
        log.info("import %s: stopped: %s", gone.args[0], gone.reason)
        _end(job, token, ImportStatus.CANCELLED, gone.reason)
        return False
    _keep_statistics(progress.base_created, created_count, first=chunk.first_row == 0)
    return not finished


# The tables an import grows, whose statistics PostgreSQL's planner reads for the batch's match
# and for the foreign-key checks of every row it inserts.
GROWN_TABLES = "leads, journeys, journey_steps, journey_data, events, outbox_messages"


def _keep_statistics(created_before: int, created: int, first: bool = False) -> None:
    """On PostgreSQL, ANALYZE the tables the import grows after its first chunk, and once the
    leads it created reach 1, 2, 4, 8 ... chunks' worth (`created_before` were at the chunk's
    start): when they were analyzed almost empty (or never, autovacuum off), the planner kept
    reading `leads` whole for the match and for each new row's foreign-key checks, and a chunk
    of 500 new leads after 15,000 took 7.2 s (COPY of its events 4.5 s). A few analyses per
    import, each of a sample, keep the plans on the indexes as the tables grow. An import that
    only updates leads grows none of what the plans read: after its first chunk (the leads it
    finds may never have been analyzed) it analyzed 10 more times in 1,000,000 rows (about 1.4 s
    of PostgreSQL's CPU each at 200,000 leads) for nothing."""
    unit = max(upload.CHUNK_ROWS, 1)
    crossed = (created // unit).bit_length() > (created_before // unit).bit_length()
    if db.engine.dialect.name != "postgresql" or not (first or crossed):
        return
    try:
        db.session.execute(text(f"ANALYZE {GROWN_TABLES}"))
        db.session.commit()
    except DBAPIError as error:  # over the statement timeout, say: the chunk is committed
        db.session.rollback()
        if error.connection_invalidated:  # the database is away: the worker's business
            raise
        log.warning(
            "import: could not analyze %s; plans keep older statistics: %s",
            GROWN_TABLES,
            error.orig,
        )


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The block without Python's cyclic garbage collector, then a collection of the young
    generations. A chunk makes tens of thousands of ORM objects, whose allocations kept
    triggering collections (full ones too, over every object of the app) in the middle of it:
    a quarter of a chunk's time on SQLite. What a chunk leaves is collected once, after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(1)


def run_import(
    job_id: str,
    token: str,
    stop: threading.Event | None = None,
    seconds: float | None = SLICE_SECONDS,
    on_chunk: Callable[[LeadImport], None] | None = None,
) -> int:
    """Run the leased import's chunks until it ends, `stop` is set or `seconds` have passed;
    then give the lease back. Returns how many chunks ran."""
    deadline = None if seconds is None else time.monotonic() + seconds
    chunks = 0
    try:
        while True:
            with no_cycle_collection():
                more = run_chunk(job_id, token)
            chunks += 1
            if on_chunk is not None:
                on_chunk(db.session.get(LeadImport, job_id, populate_existing=True))
            if not more or (stop is not None and stop.is_set()):
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
    except LeaseLost:
        log.warning("import %s: another worker took it over; this one stops", job_id)
        db.session.rollback()
        return chunks
    finally:
        release(job_id, token)
    return chunks


def run_imports(stop: threading.Event | None = None, seconds: float | None = SLICE_SECONDS) -> int:
    """The worker's turn at imports: run the oldest unleased one for a while. Chunks run."""
    claimed = claim()
    if claimed is None:
        return 0
    return run_import(*claimed, stop=stop, seconds=seconds)


def cancel(job: LeadImport) -> None:
    """Ask the import to stop: a worker stops it after its current chunk (a job that no
    worker holds stops at once)."""
    begin_write_transaction()
    db.session.execute(
        update(LeadImport)
        .where(LeadImport.id == job.id, LeadImport.status == ImportStatus.QUEUED)
        .values(cancel_requested=True)
    )
    db.session.commit()
    claimed = claim_one(job.id)
    if claimed:
        _end(job, claimed, ImportStatus.CANCELLED)
    db.session.refresh(job)


def claim_one(job_id: str) -> str | None:
    """Lease this import if no worker holds it: the lease token, or None."""
    now, token = utcnow(), secrets.token_hex(8)
    begin_write_transaction()
    result = db.session.execute(
        update(LeadImport)
        .where(
            LeadImport.id == job_id,
            LeadImport.status == ImportStatus.QUEUED,
            db.or_(LeadImport.locked_until.is_(None), LeadImport.locked_until < now),
        )
        .values(locked_until=now + _lease(), lease_token=token)
    )
    db.session.commit()
    return token if result.rowcount == 1 else None
