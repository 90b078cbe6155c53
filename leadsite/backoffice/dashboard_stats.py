"""The dashboard's week: registrations of the last 7 days, how many of them converted, and the
origin whose registrations converted best."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from leadsite.extensions import db
from leadsite.models import Funnel, Journey, JourneyStatus, Origin

WEEK = timedelta(days=7)
# An origin with one registration that converted is not "the best": it needs a few to compare.
BEST_MIN_REGISTRATIONS = 5


@dataclass
class BestOrigin:
    origin: Origin
    funnel_name: str
    registrations: int
    conversions: int

    @property
    def rate(self) -> float:
        return self.conversions / self.registrations


@dataclass
class Week:
    registrations: int
    conversions: int
    best: BestOrigin | None

    @property
    def rate(self) -> float | None:
        return self.conversions / self.registrations if self.registrations else None


def week_summary(workspace_id: str, now: datetime) -> Week:
    """Journeys created in the last 7 days (registrations into a funnel) and those completed
    (converted); the best origin has the highest share converted, of at least
    BEST_MIN_REGISTRATIONS registrations (then the most conversions)."""
    converted = func.sum(case((Journey.status == JourneyStatus.COMPLETED.value, 1), else_=0))
    # By the workspace's funnels, as `ix_journeys_funnel_created` holds journeys: by workspace
    # and date, no index served it (the whole journeys table read, 35-67 ms at 100,000 leads).
    per_origin = (
        select(Journey.origin_id, func.count().label("n"), converted.label("c"))
        .join(Funnel, Funnel.id == Journey.funnel_id)
        .where(Funnel.workspace_id == workspace_id, Journey.created_at >= now - WEEK)
        .group_by(Journey.origin_id)
        .subquery()
    )
    rows = db.session.execute(select(per_origin.c.origin_id, per_origin.c.n, per_origin.c.c)).all()
    registrations = sum(n for _, n, _ in rows)
    conversions = sum(int(c or 0) for _, _, c in rows)
    ranked = sorted(
        ((int(c or 0) / n, int(c or 0), origin_id, n) for origin_id, n, c in rows if origin_id),
        key=lambda item: (-item[0], -item[1], item[2]),
    )
    best = None
    for _, won, origin_id, count in ranked:
        if count < BEST_MIN_REGISTRATIONS or not won:
            continue
        origin, funnel_name = db.session.execute(
            select(Origin, Funnel.name).join(Funnel).where(Origin.id == origin_id)
        ).one()
        best = BestOrigin(origin, funnel_name, count, won)
        break
    return Week(registrations, conversions, best)
