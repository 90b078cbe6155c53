"""Attribution: the registrations of a report's range and how many of them converted, by origin,
by first- and last-touch UTM source, medium and campaign, referring host and referral share
code. A registration is a journey created in the range; it converted when it was completed."""

from __future__ import annotations

from dataclasses import dataclass

from leadsite.analytics.journey_funnel import counts_in
from leadsite.analytics.query import ReportQuery
from leadsite.extensions import db
from leadsite.models import Journey, JourneyCount

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

    Read from the rollup (`journey_counts`, metrics `attr_<dimension>`: bucket 0 counts the
    registrations with that value, bucket 1 those that converted), summed over the range."""
    totals: dict[str, dict[str, list[int]]] = {key: {} for key, _, _ in DIMENSIONS}
    for metric, value, bucket, n in db.session.execute(
        counts_in(query, JourneyCount.metric.like("attr%"))
    ):
        key = metric.removeprefix("attr_")
        if key in totals and n:
            totals[key].setdefault(value, [0, 0])[int(bucket)] += int(n)
    found: dict[str, list[AttributionRow]] = {key: [] for key, _, _ in DIMENSIONS}
    for key, values in totals.items():
        found[key] = [
            AttributionRow(value or None, registrations, conversions)
            for value, (registrations, conversions) in values.items()
            if registrations
        ]
    for key, rows in found.items():
        rows.sort(key=lambda row: (-row.registrations, row.value or ""))
        if len(rows) > TOP:
            rest = rows[TOP - 1 :]
            other = AttributionRow(
                OTHER, sum(r.registrations for r in rest), sum(r.conversions for r in rest)
            )
            found[key] = [*rows[: TOP - 1], other]
    return found
