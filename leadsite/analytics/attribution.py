"""Attribution: the registrations of a report's range and how many of them converted, by origin,
by first- and last-touch UTM source, medium and campaign, referring host and referral share
code. A registration is a journey created in the range; it converted when it was completed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, union_all

from leadsite.analytics.journey_funnel import journeys_in
from leadsite.analytics.query import ReportQuery
from leadsite.extensions import db
from leadsite.models import Journey, JourneyStatus

TOP = 20  # rows per dimension; the rest are summed up as one "other" row
OTHER = "(other)"

# (key, heading, column): the order the page and the API show them in.
DIMENSIONS = (
    ("origin", "Origin", Journey.origin_id),
    ("utm_source", "UTM source (first touch)", Journey.utm_source),
    ("utm_medium", "UTM medium (first touch)", Journey.utm_medium),
    ("utm_campaign", "UTM campaign (first touch)", Journey.utm_campaign),
    ("last_utm_source", "UTM source (last touch)", Journey.last_utm_source),
    ("last_utm_medium", "UTM medium (last touch)", Journey.last_utm_medium),
    ("last_utm_campaign", "UTM campaign (last touch)", Journey.last_utm_campaign),
    ("referrer_host", "Referring host (first touch)", Journey.referrer_host),
    ("last_referrer_host", "Referring host (last touch)", Journey.last_referrer_host),
    ("share_code", "Referral share code", Journey.share_code),
)
HEADINGS = {key: heading for key, heading, _ in DIMENSIONS}


@dataclass
class AttributionRow:
    value: str | None  # None: the registrations had none (no UTM, no referrer, no origin)
    registrations: int
    conversions: int

    @property
    def conversion_rate(self) -> float | None:
        return self.conversions / self.registrations if self.registrations else None


def attribution(query: ReportQuery) -> dict[str, list[AttributionRow]]:
    """Per dimension, its values with the most registrations first (at most TOP and "other").

    One statement: the range's journeys are read once into a materialized CTE (by the index on
    funnel and creation time), then grouped by each dimension in turn (UNION ALL)."""
    converted = case((Journey.status == JourneyStatus.COMPLETED.value, 1), else_=0)
    # NULL and '' both mean none: one row.
    columns = [func.coalesce(column, "").label(key) for key, _, column in DIMENSIONS]
    journeys = (
        journeys_in(query)
        .with_only_columns(converted.label("converted"), *columns)
        .cte("attributed")
        .prefix_with("MATERIALIZED")
    )
    statement = union_all(
        *(
            select(
                literal(key).label("dimension"),
                journeys.c[key].label("value"),
                func.count().label("registrations"),
                func.sum(journeys.c.converted).label("conversions"),
            ).group_by(journeys.c[key])
            for key, _, _ in DIMENSIONS
        )
    )
    found: dict[str, list[AttributionRow]] = {key: [] for key, _, _ in DIMENSIONS}
    for key, value, count, conversions in db.session.execute(statement):
        found[key].append(AttributionRow(value or None, count, int(conversions or 0)))
    for key, rows in found.items():
        rows.sort(key=lambda row: (-row.registrations, row.value or ""))
        if len(rows) > TOP:
            rest = rows[TOP - 1 :]
            other = AttributionRow(
                OTHER, sum(r.registrations for r in rest), sum(r.conversions for r in rest)
            )
            found[key] = [*rows[: TOP - 1], other]
    return found
