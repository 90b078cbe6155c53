"""Find a row of the caller's workspace by id, or answer 404 as if it did not exist."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, g

from leadsite.extensions import db

Row = TypeVar("Row")


def scoped_or_404(model: type[Row], row_id: str, noun: str, **filters: Any) -> Row:
    """The `model` row with this id in the request's workspace; another workspace's id is a 404
    (the error handler answers in the API's envelope, code NOT_FOUND)."""
    row = db.session.scalar(
        db.select(model).filter_by(id=row_id, workspace_id=g.workspace_id, **filters)
    )
    if row is None:
        abort(404, f"No such {noun}")
    return row
