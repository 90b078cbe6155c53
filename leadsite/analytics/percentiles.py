"""Medians and 90th percentiles computed in the database: PostgreSQL's percentile_cont, and the
same interpolation on SQLite, which has no percentile function: a window numbers the values of
each group, and only the few rows around each percentile's rank come back (fetching every value
would not scale)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select

from leadsite.extensions import db

MEDIAN, P90 = 0.5, 0.9


def seconds_between(start: Any, end: Any) -> ColumnElement[float]:
    """`end - start` in seconds, as SQL."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def interpolated(ranked: dict[int, float], count: int, fraction: float) -> float:
    """The `fraction` percentile of `count` sorted values, of which `ranked` holds those (by rank
    from 1) around it: linear between the closest ranks, as PostgreSQL's percentile_cont."""
    position = fraction * (count - 1)
    low = int(position)
    below = ranked[low + 1]
    above = ranked.get(low + 2, below)
    return below + (position - low) * (above - below)


def percentiles(
    statement: Select[Any], fractions: tuple[float, ...] = (MEDIAN, P90)
) -> dict[Any, tuple[float, ...]]:
    """Per key, the percentiles of the values of `statement`, a select of (key, value) rows."""
    inner = statement.subquery()
    key, value = inner.c[0], inner.c[1]
    if db.engine.dialect.name == "postgresql":
        found = select(
            key, *(func.percentile_cont(f).within_group(value) for f in fractions)
        ).group_by(key)
        return {group: tuple(map(float, row)) for group, *row in db.session.execute(found)}
    numbered = select(
        key.label("key"),
        value.label("value"),
        func.row_number().over(partition_by=key, order_by=value).label("rank"),
        func.count().over(partition_by=key).label("n"),
    ).subquery()
    near = [
        and_(
            numbered.c.rank >= literal(fraction) * (numbered.c.n - 1),
            numbered.c.rank <= literal(fraction) * (numbered.c.n - 1) + 2,
        )
        for fraction in fractions
    ]
    rows = db.session.execute(
        select(numbered.c.key, numbered.c.rank, numbered.c.n, numbered.c.value).where(or_(*near))
    )
    ranked: dict[Any, dict[int, float]] = defaultdict(dict)
    counts: dict[Any, int] = {}
    for group, rank, count, found in rows:
        ranked[group][int(rank)] = float(found)
        counts[group] = int(count)
    return {
        group: tuple(interpolated(ranked[group], counts[group], f) for f in fractions)
        for group in ranked
    }
