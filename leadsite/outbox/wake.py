"""Wakes the workers when a transaction that queued work due now commits (PostgreSQL NOTIFY).

The writers' half: a transaction that writes an outbox message or an automatic journey step due
now runs `pg_notify('leadsite_outbox', '')` once. PostgreSQL delivers it at commit and drops it
on rollback, so a worker never wakes before the rows are visible, nor for rows that never were.
It is seen in the ORM's flushes and in `NewRows` writes (the registration's), so every writer
is covered without calling anything. Work due later (retries, delays) is found by the workers'
polling. The worker's half is `outbox.listener`; on SQLite, or with `WORKER_LISTEN` off, nothing
is sent and workers poll.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from leadsite.models import JourneyStep, MessageStatus, OutboxMessage, StepStatus, utcnow
from leadsite.models.rows import NewRows

CHANNEL = "leadsite_outbox"
NOTIFY_SQL = f"SELECT pg_notify('{CHANNEL}', '')"
_NOTIFIED = "leadsite_outbox_notified"  # session.info: this transaction has notified


@cache
def _automatic_kinds() -> frozenset[str]:
    # The journeys package knows which steps the worker runs; imported late (it imports us).
    from leadsite.journeys.activities import AUTOMATIC_KINDS

    return frozenset(kind.value for kind in AUTOMATIC_KINDS)


def is_due_now(obj: Any) -> bool:
    """Whether a new or changed row is work a worker could claim now."""
    if isinstance(obj, OutboxMessage):
        due_at = obj.next_attempt_at
        return obj.status == MessageStatus.PENDING and (due_at is None or due_at <= utcnow())
    if isinstance(obj, JourneyStep):
        due_at = obj.due_at
        return (
            obj.status == StepStatus.DUE
            and obj.kind in _automatic_kinds()
            and (due_at is None or due_at <= utcnow())
        )
    return False


def wake_workers(session: Session) -> None:
    """NOTIFY the workers at this transaction's commit (once a transaction; PostgreSQL only)."""
    if session.info.get(_NOTIFIED):
        return
    if has_app_context() and not current_app.config.get("WORKER_LISTEN", True):
        return  # nobody listens: no notification (it would cost the commit, `bench/notify_cost`)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    connection.exec_driver_sql(NOTIFY_SQL)
    session.info[_NOTIFIED] = True


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    # In after_flush, `new` and `dirty` still hold what this flush wrote.
    if session.info.get(_NOTIFIED):
        return
    if any(is_due_now(obj) for obj in session.new) or any(is_due_now(obj) for obj in session.dirty):
        wake_workers(session)


def _after_new_rows(session: Session, objects: list[Any]) -> None:
    if not session.info.get(_NOTIFIED) and any(is_due_now(obj) for obj in objects):
        wake_workers(session)


NewRows.after_write.append(_after_new_rows)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # Any transaction's end, a savepoint's too: a NOTIFY made in a savepoint rolled back is
    # gone, so the next write notifies again (PostgreSQL folds repeats within a transaction).
    session.info.pop(_NOTIFIED, None)
