"""The dashboard's week: registrations of the last 7 days, the share converted, and the origin
that converts best."""

from __future__ import annotations

import re
from datetime import timedelta

from leadsite.extensions import db
from leadsite.models import Journey, JourneyStatus, OriginKind, Workspace, utcnow
from tests import factories


def _journeys(origin, count: int, converted: int, days_ago: float = 1) -> list[Journey]:
    made = []
    for index in range(count):
        journey = factories.journey(
            factories.lead(Workspace(id=origin.workspace_id)), origin.funnel, origin
        )
        journey.created_at = utcnow() - timedelta(days=days_ago)
        if index < converted:
            journey.status, journey.completed_at = JourneyStatus.COMPLETED, utcnow()
        made.append(journey)
    db.session.commit()
    return made


def _week(body: str) -> dict[str, str]:
    return dict(re.findall(r'data-metric="(week-[a-z]+)">(.*?)</span>', body, re.S))


def test_week_card_counts_registrations_conversions_and_the_best_origin(client, auth):
    ws = factories.workspace()
    funnel = factories.funnel(ws, "Trial")
    page = factories.origin(funnel, OriginKind.PAGE)
    embed = factories.origin(funnel, OriginKind.EMBED)
    lucky = factories.origin(funnel, OriginKind.API)
    page.name, embed.name, lucky.name = "Page", "Embed", "Lucky"
    _journeys(page, 6, 3)  # 50 %
    _journeys(embed, 5, 4)  # 80 %: the best
    _journeys(lucky, 1, 1)  # 100 %, but one registration is too few to call
    _journeys(page, 4, 4, days_ago=8)  # last week's
    other = factories.origin(factories.funnel(factories.workspace()))
    _journeys(other, 5, 5)
    auth.login(factories.user(ws).email)

    body = client.get("/p/").get_data(as_text=True)

    week = _week(body)
    assert week["week-registrations"] == "12"
    assert week["week-rate"] == "66.7%"
    assert "converted (8)" in body
    assert week["week-best"] == f'<a href="/p/funnels/edit/{funnel.id}/analytics">Embed</a>'
    assert "converts best: 80% of 5 · Trial" in body


def test_week_card_without_registrations(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)

    body = client.get("/p/").get_data(as_text=True)

    week = _week(body)
    assert week["week-registrations"] == "0"
    assert week["week-rate"] == "\N{EN DASH}"
    assert "no origin has converted enough registrations yet" in body
