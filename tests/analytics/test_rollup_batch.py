"""A commit counts its new journeys once per shape (`rollup.shape`): the rollup after a batch of
new journeys of several shapes is what counting each journey alone gives."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from leadsite.extensions import db
from leadsite.journeys import start_journey
from leadsite.journeys.engine import complete_step, enter_first_stage
from leadsite.models import JourneyData, OriginKind, utcnow
from leadsite.registration import LeadInput, RegistrationContext
from leadsite.registration.batch import register_many
from leadsite.registration.inputs import JourneyDataInput
from tests import factories
from tests.analytics.test_rollup import _recounted, _stored
from tests.journeys.helpers import begin, steps
from tests.journeys.test_decisions import sales_funnel


def _lead(n: int, utm_source: str, **data: object) -> LeadInput:
    return LeadInput(
        email=f"shape{n}@example.com",
        utm={"utm_source": utm_source},
        journey_data=[JourneyDataInput(name, value) for name, value in data.items()],
    )


def test_a_batch_of_new_journeys_of_several_shapes_counts_as_each_one_alone():
    ws = factories.workspace()
    factories.data_point(ws, "team_size", type="number")
    factories.data_point(ws, "company")
    funnel, stages = sales_funnel(ws)
    origin = factories.origin(funnel, OriginKind.IMPORT)
    inputs = [
        *(_lead(n, "a", team_size=50) for n in range(3)),  # Sales review
        *(_lead(n, "b", team_size=2) for n in range(3, 5)),  # Self-serve
        _lead(5, "a", team_size=2),  # Self-serve, another source
        *(_lead(n, "b", company="Spam Inc") for n in range(6, 8)),  # converted at once
    ]

    outcomes = register_many(origin, inputs, RegistrationContext())
    db.session.commit()

    assert [outcome.status for outcome in outcomes] == ["created"] * 8
    counts, durations = _stored()
    assert (counts, durations) == _recounted()

    def total(metric: str, item: str, bucket: int = 0) -> int:
        return sum(n for key, n in counts.items() if key[3:] == (metric, item, bucket))

    assert (total("status", "active"), total("status", "completed")) == (6, 2)
    assert total("stage_entered", stages["Sales review"].id) == 3
    assert total("stage_entered", stages["Self-serve"].id) == 3
    assert (total("attr_utm_source", "a"), total("attr_utm_source", "b")) == (4, 4)
    assert total("attr_utm_source", "b", 1) == 2
    assert sorted(activity for _, activity in durations) == ["", ""]


def test_new_journeys_that_differ_only_in_a_time_spent_count_it_each():
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type="number")
    funnel, _ = sales_funnel(ws)
    entered = datetime.combine(datetime.now(UTC).date(), time(0, 1), UTC)
    leads = [factories.lead(ws) for _ in range(2)]
    journeys = []
    for lead, hours in zip(leads, (1, 2), strict=True):  # both new at the one commit
        journey = start_journey(lead, funnel, None)
        db.session.add(journey)
        db.session.add(JourneyData(journey_id=journey.id, data_point_id=team_size.id, value=50))
        enter_first_stage(journey, now=entered)
        complete_step(steps(journey)["Call"], now=entered + timedelta(hours=hours))
        journeys.append(journey)
    db.session.commit()

    counts, durations = _stored()
    assert (counts, durations) == _recounted()
    call = steps(journeys[0])["Call"].activity_id
    assert [durations[journey.id, call][4] for journey in journeys] == [3600.0, 7200.0]


def test_a_changed_journey_whose_attributes_were_expired_is_counted_with_them_read_again():
    ws = factories.workspace()
    team_size = factories.data_point(ws, "team_size", type="number")
    funnel, _ = sales_funnel(ws)
    journey = begin(factories.lead(ws), funnel, {team_size: 50})
    step = steps(journey)["Call"]
    db.session.expire(journey, ["status", "funnel_id"])  # not in its __dict__ at the commit

    step.due_at = utcnow() - timedelta(days=3)
    db.session.commit()

    assert _stored() == _recounted()
