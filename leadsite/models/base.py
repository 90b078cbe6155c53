"""Declarative base pieces: the prefixed primary key, created/updated timestamps, and column
defaults applied when an object is made."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnDefault, ForeignKeyConstraint, String, event, inspect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.orm.instrumentation import manager_of_class

from leadsite.extensions import db
from leadsite.ids import id_factory
from leadsite.models.types import UTCDateTime, utcnow

ID = String(40)


class PublicIdMixin:
    """A primary key that is also the public id: `<id_prefix>_<26 chars>`."""

    id_prefix: str

    @declared_attr
    def id(cls) -> Mapped[str]:
        return mapped_column(ID, primary_key=True, default=id_factory(cls.id_prefix))


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


@event.listens_for(db.Model, "init", propagate=True)
def apply_defaults(target: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Give a new object its Python-side column defaults when it is made, not at flush.

    A new lead then has its id, timestamps, status and counter at once: the registration
    pipeline builds the events' payloads from it without a flush. Values passed to the
    constructor win.

    Written to the new object's `__dict__`, not through the attribute (its events and history
    are for loaded objects; an INSERT writes what the dict holds, whichever way it got there):
    an import makes about ten objects a row, and the attribute events were a tenth of its time.
    """
    _set_defaults(target.__dict__, type(target), kwargs)


Model = TypeVar("Model")


def made(model: type[Model], **values: Any) -> Model:
    """A new `model` with these column values and its defaults: what `model(**values)` makes,
    without the constructor's attribute events (for column values only, no relationship, no
    `validates`). The registration makes about ten objects a row this way (steps, events,
    outbox messages), where the constructor was a fifth of an import's time."""
    manager = manager_of_class(model)
    obj = manager.new_instance()
    state = obj.__dict__  # type: ignore[attr-defined]
    _set_defaults(state, model, values)
    state.update(values)
    return obj


def _set_defaults(state: dict[str, Any], model: type, given: dict[str, Any]) -> None:
    """The defaults of the columns not `given`, `utcnow` called once an object: a new object's
    created_at and updated_at are one time (as a row nobody has changed since it was made
    reads), whose SQLite text `UTCDateTime` then makes once."""
    now = None
    for key, default, clock in _scalar_defaults(model):
        if key in given:
            continue
        if clock:
            state[key] = now = now or default.arg(None)
        else:
            state[key] = default.arg(None) if default.is_callable else default.arg


@cache
def _scalar_defaults(model: type) -> list[tuple[str, ColumnDefault, bool]]:
    """(key, default, whether it is `utcnow`: SQLAlchemy wraps each column's callable)."""
    defaults = []
    for prop in inspect(model).column_attrs:
        default = prop.columns[0].default
        if isinstance(default, ColumnDefault) and (default.is_scalar or default.is_callable):
            clock = getattr(default.arg, "__wrapped__", None) is utcnow
            defaults.append((prop.key, default, clock))
    return defaults


def lead_and_workspace(table: str) -> tuple[ForeignKeyConstraint, ...]:
    """A row's lead and workspace. On PostgreSQL one foreign key to leads (id, workspace_id):
    one check for two (issue 17: journeys and events are written by the thousand in an import),
    and the stronger rule that the row's workspace is its lead's; the workspace's deletion
    reaches the row through its lead's (0013_fk_checks). SQLite keeps a key each
    (changing them would rebuild the tables). Both pairs are in the metadata, so a bare
    `select(Journey).join(Lead)` is ambiguous: join through the relationship (`Journey.lead`)."""
    return (
        ForeignKeyConstraint(
            ["lead_id", "workspace_id"],
            ["leads.id", "leads.workspace_id"],
            name=f"fk_{table}_lead_workspace",
            ondelete="CASCADE",
        ).ddl_if(dialect="postgresql"),
        ForeignKeyConstraint(["lead_id"], ["leads.id"], ondelete="CASCADE").ddl_if(
            dialect="sqlite"
        ),
        ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], ondelete="CASCADE").ddl_if(
            dialect="sqlite"
        ),
    )
