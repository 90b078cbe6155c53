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


# UTC datetime -> its SQLite text, the last few hundred formatted (keyed by value only in UTC:
# two aware values of another zone can be equal and differ in `fold`). Emptied when full.
_SQLITE_TEXTS: dict[datetime, str] = {}
_SQLITE_TEXTS_KEPT = 512


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no offset: values are converted to UTC going in and marked UTC coming out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, `process_bind_param` and the SQLite DATETIME's formatting in one step:
        an import writes some twenty-five timestamps a row, and the two steps (the second
        builds a dict of the parts for a %-format) were a twentieth of its CPU. A UTC value's
        text is kept in `_SQLITE_TEXTS`: an object's created_at and updated_at are one value
        (`models.base.made`), and a dict lookup costs a tenth of the formatting.

        The text is SQLAlchemy's SQLite storage format, `YYYY-MM-DD HH:MM:SS.ffffff`, whose
        order is the time's (`tests/unit/test_types.py` holds the two ways equal).

        On PostgreSQL an aware UTC value (every `utcnow()`) is passed on as it is, without
        `process_bind_param`'s conversion to the zone it is already in."""
        if dialect.name != "sqlite":
            process_other = super().bind_processor(dialect)
            if process_other is None or self.impl_instance.bind_processor(dialect) is not None:
                return process_other

            def process_aware(value: datetime | None) -> datetime | None:
                if value is None or value.tzinfo is UTC:
                    return value
                return self.process_bind_param(value, dialect)

            return process_aware

        texts = _SQLITE_TEXTS

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is UTC:
                known = texts.get(value)
                if known is None:
                    if len(texts) >= _SQLITE_TEXTS_KEPT:
                        texts.clear()
                    known = texts[value] = value.replace(tzinfo=None).isoformat(" ", "microseconds")
                return known
            if value.tzinfo is None:
                raise ValueError("naive datetime: use an aware datetime in UTC")
            return in_zone(value, UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

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
