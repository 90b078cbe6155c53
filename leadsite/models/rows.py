"""New objects written with Core: one INSERT per table, in foreign-key order, no unit of work.

The unit of work's flush spends most of its time on bookkeeping (identity map, history,
dependency sorting, post-insert state), which for the ten or so objects of a registration costs
several times the INSERTs themselves. `NewRows` writes such objects as plain rows instead.

On PostgreSQL a table's rows go in one `COPY ... FROM STDIN` when there are many of them (a
batch's, an import chunk's): psycopg's executemany runs one INSERT per row on the server
(pipelined), about a millisecond a row on this machine, where COPY streams them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cache
from typing import Any, ClassVar

from sqlalchemy import Connection, Dialect, Insert, Table, insert, inspect
from sqlalchemy.exc import DBAPIError
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

    def write(self, session: Session, detach: bool = True) -> None:
        """INSERT everything added, parents before children; the caller commits. Not
        `detach`: the objects stay transient (for a caller that adds none of them to a
        session after: `session.add` would INSERT them again).

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
        dialect = connection.dialect.name
        for table, names in sorted(batches, key=lambda batch: _table_order(batch[0])):
            rows = batches[table, names]
            if len(rows) < MANY_MIN_ROWS or _DIRECT.get(dialect) is None:
                connection.execute(_insert(table), rows)
            else:
                _DIRECT[dialect](connection, table, names, rows)
        for obj, columns in written if detach else ():
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


# A table's rows in one write from which they go to the driver directly (on PostgreSQL COPY
# replaces the INSERT; on SQLite the driver's `executemany` runs it without SQLAlchemy's
# parameter building): a batch's or an import's, not a single registration's (its statements
# stay the INSERTs it always sent).
MANY_MIN_ROWS = 100
COPY_MIN_ROWS = MANY_MIN_ROWS  # the name the benches and tests know


@cache
def _insert(table: Table) -> Insert:
    return insert(table)


def _copy(
    connection: Connection, table: Table, names: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """The rows in one `COPY table (names) FROM STDIN` (PostgreSQL), each value through its
    column type's bind processing as an INSERT would."""
    statement, processors = _copy_statement(connection.dialect, table, names)

    def send(cursor: Any) -> None:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if process is None else process(value)
                        for process, value in zip(processors, row.values(), strict=True)
                    ]
                )

    _on_driver(connection, statement, rows, send)


def _executemany(
    connection: Connection, table: Table, names: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """The rows in one INSERT through the SQLite driver's `executemany`, each value through
    its column type's bind processing as SQLAlchemy's would: the same statement and values,
    without the per-row parameter dict SQLAlchemy builds and then reads back (`construct_params`
    and its list: about a twentieth of an import chunk's CPU, py-spy)."""
    prepared = _insert_statement(connection.dialect, table, names)
    if prepared is None:
        connection.execute(_insert(table), rows)
        return
    statement, processed = prepared
    values = []
    for row in rows:
        line = list(row.values())
        for index, process in processed:
            line[index] = process(line[index])
        values.append(line)

    def send(cursor: Any) -> None:
        cursor.executemany(statement, values)

    _on_driver(connection, statement, values, send)


def _on_driver(
    connection: Connection, statement: str, parameters: Any, send: Callable[[Any], None]
) -> None:
    """`send(cursor)` on the connection's driver cursor; a failure raised as SQLAlchemy's
    (`IntegrityError` on a unique constraint: the batch retries its losers). The statement is
    shown to the engine's `before/after_cursor_execute` listeners, as the INSERT was."""
    dialect = connection.dialect
    raw = connection.connection.driver_connection
    assert raw is not None
    cursor = raw.cursor()
    events = connection._has_events or connection.engine._has_events
    if events:
        connection.dispatch.before_cursor_execute(
            connection, cursor, statement, parameters, None, True
        )
    try:
        send(cursor)
    except dialect.loaded_dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, raw, cursor)
        wrapped = DBAPIError.instance(
            statement,
            None,
            error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=dialect,
        )
        if invalidated:
            connection.invalidate(error)
        raise wrapped from error
    finally:
        cursor.close()
    if events:
        connection.dispatch.after_cursor_execute(
            connection, cursor, statement, parameters, None, True
        )


_DIRECT = {"postgresql": _copy, "sqlite": _executemany}


@cache
def _copy_statement(
    dialect: Dialect, table: Table, names: tuple[str, ...]
) -> tuple[str, list[Callable[[Any], Any] | None]]:
    quote = dialect.identifier_preparer
    columns = [table.c[name] for name in names]
    listed = ", ".join(quote.format_column(column) for column in columns)
    statement = f"COPY {quote.format_table(table)} ({listed}) FROM STDIN"
    return statement, [column.type._cached_bind_processor(dialect) for column in columns]


@cache
def _table_order(table: Table) -> int:
    return db.metadata.sorted_tables.index(table)


@cache
def _insert_statement(
    dialect: Dialect, table: Table, names: tuple[str, ...]
) -> tuple[str, list[tuple[int, Callable[[Any], Any]]]] | None:
    """The INSERT SQLAlchemy's `executemany` of rows with these keys runs (SQLite's positional
    parameters), and the bind processors by position; None when it does not list the columns
    in `names`' order (a row's values are passed in that order: SQLAlchemy writes those)."""
    compiled = _insert(table).compile(dialect=dialect, column_keys=list(names))
    if list(compiled.positiontup or ()) != list(names):
        return None
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    return str(compiled), [(i, process) for i, process in enumerate(processors) if process]
