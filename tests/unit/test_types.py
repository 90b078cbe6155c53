"""`UTCDateTime`'s one-step SQLite bind processing writes what SQLAlchemy's two steps wrote."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from leadsite.models.types import UTCDateTime, in_zone

AWAY = timezone(timedelta(hours=-5))
VALUES = [
    datetime(2026, 12, 7, 6, 16, 59, 668500, tzinfo=UTC),
    datetime(2026, 12, 7, 6, 16, 59, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 12, 7, 1, 16, 59, 5, tzinfo=AWAY),  # another zone: converted to UTC
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, 3, tzinfo=timezone(timedelta(hours=14))),  # held at the first moment
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def _two_steps(value: datetime) -> str:
    """What the TypeDecorator's `process_bind_param`, then SQLite's DATETIME, make."""
    dialect = sqlite.dialect()
    naive = in_zone(value, UTC).replace(tzinfo=None)
    return DateTime()._cached_bind_processor(dialect)(naive)


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_sqlite_text_is_sqlalchemys_storage_format(value):
    process = UTCDateTime()._cached_bind_processor(sqlite.dialect())
    assert process(value) == _two_steps(value)


def test_sqlite_text_sorts_as_the_times_do():
    process = UTCDateTime()._cached_bind_processor(sqlite.dialect())
    ordered = sorted(VALUES, key=lambda value: in_zone(value, UTC))
    assert sorted(process(value) for value in VALUES) == [process(v) for v in ordered]


def test_naive_and_none():
    process = UTCDateTime()._cached_bind_processor(sqlite.dialect())
    assert process(None) is None
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2026, 12, 7))


def test_postgresql_gets_an_aware_utc_datetime():
    process = UTCDateTime()._cached_bind_processor(postgresql.psycopg.dialect())
    value = datetime(2026, 12, 7, 1, tzinfo=AWAY)
    bound = value if process is None else process(value)
    assert bound == value and bound.utcoffset() == timedelta(0)
