"""What the lead page shows of each stakeholder step: who was asked, and where the link stands."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from leadsite.extensions import db
from leadsite.models import OutboxMessage, StakeholderLink, utcnow


@dataclass
class LinkView:
    link: StakeholderLink
    state: str  # answered, expired, opened, sent (queued or delivered), failed (email dead)
    delivery: str | None  # the email's status: pending, delivered, dead; None when pruned


def latest_links(journey_ids: Iterable[str]) -> dict[str, LinkView]:
    """The newest link of each stakeholder step of these journeys, by step id."""
    ids = list(journey_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(StakeholderLink, OutboxMessage.status)
        .outerjoin(OutboxMessage, OutboxMessage.id == StakeholderLink.message_id)
        .filter(StakeholderLink.journey_id.in_(ids))
        .order_by(StakeholderLink.created_at, StakeholderLink.id)
    )
    now = utcnow()
    views: dict[str, LinkView] = {}
    for link, delivery in rows:
        views[link.step_id] = LinkView(link, _state(link, delivery, now), delivery)
    return views


def _state(link: StakeholderLink, delivery: str | None, now) -> str:
    if link.decided_at is not None:
        return "answered"
    if link.expires_at <= now:
        return "expired"
    if link.opened_at is not None:
        return "opened"
    return "failed" if delivery == "dead" else "sent"
