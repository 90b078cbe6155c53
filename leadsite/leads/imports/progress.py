"""CSV import, the progress of a chunk: written inside the transactions that write its leads.

`register_many()` commits as it goes (today one transaction per input; set-based, one per batch).
A `before_commit` hook on the session adds the chunk's progress to each of those transactions:
the rows it committed and the counts, fenced by the job's lease token. Which rows a transaction
wrote is told by `Tracked`, the inputs' list, which notes how far `register_many()` read it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from leadsite.extensions import db
from leadsite.models import LeadImport, utcnow
from leadsite.registration import LeadInput


class LeaseLost(RuntimeError):
    """Another worker took this import over (this one's lease ran out): stop at once."""


class StarterGone(RuntimeError):
    """The user who started this import no longer has access to its workspace: it stops,
    cancelled, and nothing of the transaction under way is kept."""

    def __init__(self, job_id: str, reason: str) -> None:
        super().__init__(job_id)
        self.reason = reason


class Tracked(list[LeadInput]):
    """The inputs of a chunk, knowing which one `register_many()` has reached."""

    def __init__(self, inputs: list[LeadInput], rows: list[int]) -> None:
        super().__init__(inputs)
        self.rows = rows
        self.reached: list[int] = []

    def __iter__(self) -> Iterator[LeadInput]:
        for position, item in enumerate(super().__iter__()):
            self.reached.append(self.rows[position])
            yield item


@dataclass
class Progress:
    """The chunk's committed rows and counts, written inside each registration's transaction."""

    job_id: str
    token: str
    lease: timedelta
    base_created: int
    base_updated: int
    done: set[int]  # rows of this chunk whose registration committed (or that one refused)
    created: int = 0
    updated: int = 0
    tracked: Tracked | None = None
    pending: list[bool] = field(default_factory=list)  # created? per lead of this transaction
    seen: int = 0  # of `tracked.reached`, the rows already counted into `done`
    # Raises `StarterGone` when the import's starter lost access: run before each commit.
    guard: Callable[[], None] | None = None

    def written(self, lead_id: str, created: bool) -> None:
        self.pending.append(created)

    def _rows_of_transaction(self) -> set[int]:
        reached = self.tracked.reached if self.tracked is not None else []
        if len(self.pending) > 1:  # a batch written in one transaction: every row it reached
            return set(reached[self.seen :])
        # One lead a transaction (`register_many` as a loop): the row it is at; those it passed
        # without a commit of their own were refused, and are recorded with the chunk's end.
        return {reached[-1]} if reached else set()

    def before_commit(self, session: Session) -> None:
        if not self.pending:
            return
        if self.guard is not None:
            self.guard()
        rows = self.done | self._rows_of_transaction()
        created = self.created + sum(self.pending)
        updated = self.updated + len(self.pending) - sum(self.pending)
        result = session.execute(
            update(LeadImport)
            .where(LeadImport.id == self.job_id, LeadImport.lease_token == self.token)
            .values(
                chunk_done=sorted(rows),
                created_count=self.base_created + created,
                updated_count=self.base_updated + updated,
                locked_until=utcnow() + self.lease,
            )
        )
        if result.rowcount != 1:
            raise LeaseLost(self.job_id)

    def after_commit(self, session: Session) -> None:
        if not self.pending:
            return
        self.done |= self._rows_of_transaction()
        self.created += sum(self.pending)
        self.updated += len(self.pending) - sum(self.pending)
        self.seen = len(self.tracked.reached) if self.tracked is not None else 0
        self.pending = []

    def after_rollback(self, session: Session) -> None:
        self.pending = []

    @contextmanager
    def listening(self) -> Iterator[None]:
        session = db.session()
        hooks: list[tuple[str, Callable[[Session], None]]] = [
            ("before_commit", self.before_commit),
            ("after_commit", self.after_commit),
            ("after_rollback", self.after_rollback),
        ]
        for name, hook in hooks:
            event.listen(session, name, hook)
        try:
            yield
        finally:
            for name, hook in hooks:
                event.remove(session, name, hook)
