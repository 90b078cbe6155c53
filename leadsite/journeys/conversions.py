"""Conversions: a lead counts as converted for a funnel once its journey there is completed
(every step done or skipped); a cancelled journey is not a conversion."""

from __future__ import annotations

from collections import defaultdict

from leadsite.extensions import db
from leadsite.models import Journey, JourneyStatus


def converted_funnels(lead_ids: list[str]) -> dict[str, list[str]]:
    """The ids of the funnels each lead converted in (completed its journey), oldest first."""
    if not lead_ids:
        return {}
    rows = db.session.execute(
        db.select(Journey.lead_id, Journey.funnel_id)
        .where(Journey.lead_id.in_(lead_ids), Journey.status == JourneyStatus.COMPLETED.value)
        .order_by(Journey.completed_at, Journey.id)
    )
    found: dict[str, list[str]] = defaultdict(list)
    for lead_id, funnel_id in rows:
        found[lead_id].append(funnel_id)
    return found
