"""Column types shared by the models: UTC timestamps and JSON that is JSONB on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def in_zone(value: datetime, zone: tzinfo) -> datetime:
    """`value.astimezone(zone)`, held at the calendar's first or last moment where the shift
    would leave it (`0001-01-01T00:00+14:00` in UTC is year 0: OverflowError)."""
    try:
        return value.astimezone(zone)
    except OverflowError:
        edge = datetime.min if value.year == 1 else datetime.max
        return edge.replace(tzinfo=zone)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset: values are converted to UTC going in and marked UTC coming out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, `process_bind_param` and the SQLite DATETIME's formatting in one step:
        an import writes some twenty-five timestamps a row, and the two steps (the second
        builds a dict of the parts for a %-format) were a twentieth of its CPU.

        The text is SQLAlchemy's SQLite storage format, `YYYY-MM-DD HH:MM:SS.ffffff`, whose
        order is the time's (`tests/unit/test_types.py` holds the two ways equal)."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:
                if value.tzinfo is None:
                    raise ValueError("naive datetime: use an aware datetime in UTC")
                value = in_zone(value, UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use an aware datetime in UTC")
        value = in_zone(value, UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else in_zone(value, UTC)
