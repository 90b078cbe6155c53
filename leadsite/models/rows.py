"""New objects written with Core: one INSERT per table, in foreign-key order, no unit of work.

The unit of work's flush spends most of its time on bookkeeping (identity map, history,
dependency sorting, post-insert state), which for the ten or so objects of a registration costs
several times the INSERTs themselves. `NewRows` writes such objects as plain rows instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

from sqlalchemy import Insert, Table, insert, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from leadsite.extensions import db


class NewRows:
    """New mapped objects to insert together with one `executemany` per table.

    Objects added here must hold every column's value themselves, foreign keys included (a
    relationship alone is not written), and their defaults (models get them when made; see
    `models.base.apply_defaults`). They must not be in a session. After `write` they are
    detached, with the values written: readable, and `session.add` makes them persistent
    without another INSERT.
    """

    # Called with the session and the objects after each `write`, in its transaction (the
    # outbox's wake-up: `outbox.wake`); the ORM's flush events do not see these rows.
    after_write: ClassVar[list[Callable[[Session, list[Any]], None]]] = []

    def __init__(self) -> None:
        self._objects: list[Any] = []

    def add(self, obj: Any) -> None:
        self._objects.append(obj)

    def add_all(self, objects: list[Any]) -> None:
        self._objects.extend(objects)

    def extend(self, other: NewRows) -> None:
        """Take `other`'s objects, to write them with these (a batch's registrations)."""
        self._objects.extend(other._objects)
        other._objects = []

    def write(self, session: Session) -> None:
        """INSERT everything added, parents before children; the caller commits.

        As in the ORM's flush, a column never set is left out of the INSERT (so it gets SQL
        NULL, where binding None to a JSON column would store JSON `null`); rows of a table
        that set different columns go in separate statements.
        """
        batches: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
        written = []
        for obj in self._objects:
            table, columns = _columns(type(obj))
            values = obj.__dict__
            row = {column: values[key] for key, column in columns if key in values}
            batches[table, tuple(row)].append(row)
            written.append((obj, columns))
        connection = session.connection()
        for table, names in sorted(batches, key=lambda batch: _table_order(batch[0])):
            connection.execute(_insert(table), batches[table, names])
        for obj, columns in written:
            for key, _ in columns:
                # Written NULL: record it, as a load would, so that reading the attribute
                # does not go back to the database.
                obj.__dict__.setdefault(key, None)
            make_transient_to_detached(obj)
        objects, self._objects = self._objects, []
        for hook in self.after_write:
            hook(session, objects)


@cache
def _columns(model: type) -> tuple[Table, tuple[tuple[str, str], ...]]:
    mapper = inspect(model)
    table = mapper.local_table
    assert isinstance(table, Table)
    return table, tuple((prop.key, prop.columns[0].key) for prop in mapper.column_attrs)


@cache
def _insert(table: Table) -> Insert:
    return insert(table)


@cache
def _table_order(table: Table) -> int:
    return db.metadata.sorted_tables.index(table)
