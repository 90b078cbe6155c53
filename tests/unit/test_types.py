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


@pytest.mark.parametrize("value", VALUES, ids=str)
def test_sqlite_text_is_the_same_when_the_value_comes_again(value):
    """The second time a UTC value is bound its text comes from `_SQLITE_TEXTS`."""
    process = UTCDateTime()._cached_bind_processor(sqlite.dialect())
    first = process(value)
    again = process(value.replace())  # an equal value, another object

    assert first == again == _two_steps(value)


def test_a_new_objects_created_at_is_its_updated_at():
    """One `utcnow()` an object: never-changed reads as such, and SQLite formats it once."""
    from leadsite.models import Journey, Lead
    from leadsite.models.base import made

    made_lead, journey = made(Lead, workspace_id="ws"), Journey(lead_id="lead", funnel_id="f")

    assert made_lead.created_at == made_lead.updated_at
    assert journey.created_at == journey.updated_at
