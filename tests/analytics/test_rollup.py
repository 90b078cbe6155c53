"""The journey rollup stays what a recount of the journeys gives, whatever happens to them,
and the report shows a stage without activities with the journeys that reached it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_migrate import downgrade, upgrade

from leadsite.analytics.rollup_backfill import backfill
from leadsite.extensions import db
from leadsite.journeys.engine import complete_step
from leadsite.models import (
    ActivityKind,
    JourneyCount,
    JourneyDuration,
    OriginKind,
    StepStatus,
    utcnow,
)
from tests import factories
from tests.analytics.report_world import _journey
from tests.journeys.helpers import begin, steps
from tests.journeys.test_decisions import sales_funnel


def _stored() -> tuple[dict[tuple[Any, ...], int], dict[tuple[str, str], tuple[Any, ...]]]:
    """The rollup as stored: non-zero counts by key, times spent by (journey, activity)."""
    db.session.expire_all()
    counts = {
        (c.funnel_id, c.day, c.origin_id, c.metric, c.item, c.bucket): c.n
        for c in db.session.scalars(db.select(JourneyCount))
        if c.n
    }
    durations = {
        (d.journey_id, d.activity_id): (d.funnel_id, d.origin_id, d.day, d.bucket, d.seconds)
        for d in db.session.scalars(db.select(JourneyDuration))
    }
    return counts, durations


def _recounted() -> tuple[dict[tuple[Any, ...], int], dict[tuple[str, str], tuple[Any, ...]]]:
    backfill(db.session.connection())
    db.session.commit()
    return _stored()


def _register(client, key: str, origin, email: str, **body: Any) -> None:
    response = client.post(
        f"/api/v1/leads?ref={origin.ref}",
        json={"Email": email, **body},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code in (200, 201), response.get_json()


def test_the_rollup_equals_a_recount_after_every_kind_of_change(client):
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type="number")
    company = factories.data_point(ws, "company")
    funnel, stages = sales_funnel(ws)  # "Qualify" has no activities: it decides at once
    api = factories.origin(funnel, OriginKind.API)
    key = factories.api_key(ws)

    # Registrations through the API (the pipeline's rows), one of them again (an update).
    for n in range(3):
        _register(client, key, api, f"api{n}@example.com", utm_source=f"s{n % 2}")
    _register(client, key, api, "api0@example.com", utm_campaign="again")
    # Journeys started as the journey tests do (the ORM's flush), down each branch.
    large = [begin(factories.lead(ws), funnel, {team_size: 50}) for _ in range(2)]
    small = begin(factories.lead(ws), funnel, {team_size: 2})
    spam = begin(factories.lead(ws), funnel, {company: "Spam Inc"})  # converted at once
    assert _stored() == _recounted()

    later = utcnow() + timedelta(hours=3)
    complete_step(steps(large[0])["Call"], now=later)  # stage move: Sales review -> Onboard
    db.session.commit()
    complete_step(steps(large[0])["Kickoff"], now=later + timedelta(hours=5))  # converted
    db.session.commit()
    complete_step(steps(large[1])["Call"], skipped=True)  # a skip moves it on too
    db.session.commit()
    complete_step(steps(small)["Send docs"], now=later)
    db.session.commit()
    step = steps(small)["Kickoff"]
    step.due_at = utcnow() - timedelta(days=3)  # a staff edit: overdue now
    db.session.commit()

    counts, durations = _stored()
    assert (counts, durations) == _recounted()
    qualify = [k for k in counts if k[3] == "stage_entered" and k[4] == stages["Qualify"].id]
    assert sum(counts[k] for k in qualify) == 7
    assert sum(n for k, n in counts.items() if k[3:5] == ("status", "completed")) == 2
    assert {activity for _, activity in durations} == {
        steps(large[0])["Call"].activity_id,
        steps(large[0])["Kickoff"].activity_id,
        steps(small)["Send docs"].activity_id,
        "",  # the conversions' times
    }
    assert spam.status == "completed"
    assert steps(large[1])["Call"].status == StepStatus.SKIPPED


def test_a_rolled_back_change_leaves_the_rollup_as_it_was(client):
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type="number")
    funnel, _ = sales_funnel(ws)
    journey = begin(factories.lead(ws), funnel, {team_size: 50})
    before = _stored()

    complete_step(steps(journey)["Call"])
    db.session.rollback()
    db.session.expire_all()

    assert _stored() == before == _recounted()


def test_a_stage_without_activities_shows_the_journeys_that_reached_it(client):
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type="number")
    funnel, _ = sales_funnel(ws)
    for size in (50, 2, 3):
        begin(factories.lead(ws), funnel, {team_size: size})

    response = client.get(f"/api/v1/funnels/{funnel.id}/analytics", headers=_key(ws))

    assert response.status_code == 200
    found = {s["name"]: s for s in response.get_json()["data"]["journeys"]["stages"]}
    assert (found["Qualify"]["entered"], found["Qualify"]["completed"]) == (3, 3)
    assert found["Sales review"]["entered"] == 1
    assert found["Self-serve"]["entered"] == 2


def _key(ws) -> dict[str, str]:
    return {"Authorization": f"Bearer {factories.api_key(ws)}"}


def _percentile_cont(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    above = ordered[min(low + 1, len(ordered) - 1)]
    return ordered[low] + (position - low) * (above - ordered[low])


def test_percentiles_read_through_the_histogram_are_exact(client):
    ws = factories.workspace()
    funnel = factories.funnel(ws, "Spread")
    stage = factories.stage(funnel, "Only")
    activity = factories.activity(stage, ActivityKind.STAFF_TASK, "Task")
    origin = factories.origin(funnel, OriginKind.PAGE)
    created = utcnow() - timedelta(days=1)
    # 23 times spread over many buckets (seconds to days), some sharing a bucket.
    hours = [0.0001 * 3**k for k in range(12)] + [5.0, 5.01, 5.02, 7.5, 30, 31, 200, 0, 0, 1, 2]
    for spent in hours:
        _journey(ws, funnel, origin, created, [(StepStatus.DONE, 1, 1 + spent)])

    response = client.get(f"/api/v1/funnels/{funnel.id}/analytics", headers=_key(ws))

    found = response.get_json()["data"]["journeys"]["activities"]
    row = next(a for a in found if a["id"] == activity.id)
    seconds = [h * 3600 for h in hours]
    assert row["median_seconds"] == round(_percentile_cont(seconds, 0.5), 1)
    assert row["p90_seconds"] == round(_percentile_cont(seconds, 0.9), 1)


def test_migration_0009_backfills_the_rollup_of_the_journeys_already_stored(client):
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type="number")
    funnel, _ = sales_funnel(ws)
    journeys = [begin(factories.lead(ws), funnel, {team_size: size}) for size in (50, 2, 3)]
    complete_step(steps(journeys[0])["Call"], now=utcnow() + timedelta(hours=2))
    db.session.commit()
    kept = _stored()
    db.session.remove()  # no transaction left open across the DDL

    downgrade(revision="0008_i18n")
    upgrade()

    assert _stored() == kept
    assert kept[0] and kept[1]
