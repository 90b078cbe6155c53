"""What SQL a block of test code sends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from leadsite.extensions import db


@contextmanager
def captured_statements(
    keep: Callable[[str], bool] = lambda statement: True,
) -> Iterator[list[tuple[str, Any]]]:
    """The statements sent inside the block that `keep` accepts, with their parameters, in order."""
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        if keep(statement):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
