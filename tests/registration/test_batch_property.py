"""The same inputs give the same outcomes through `register()` one by one and through one
`register_many()` batch: statuses, codes, warnings, and the leads, journeys and events made."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsite.extensions import db
from leadsite.models import (
    Event,
    Journey,
    JourneyData,
    Lead,
    OnDuplicate,
    OriginKind,
    OutboxMessage,
)
from leadsite.registration import (
    JourneyDataInput,
    LeadInput,
    RegistrationContext,
    RegistrationError,
    register,
)
from leadsite.registration.batch import Outcome, register_many
from tests import factories

# Few values, so that generated inputs often name the same people, and now and then one
# another's identifiers.
EMAILS = st.sampled_from([None, "ada@example.com", "ADA@example.com", "bob@example.com", "x@"])
PHONES = st.sampled_from([None, "+14155550101", "+14155550102", "12"])
UNIQUE_IDS = st.sampled_from([None, "u1", "u2"])
NAMES = st.sampled_from([None, "Ada", "Bob", ""])
TAGS = st.sampled_from([None, ["vip"], ["new", "vip"], "a,b"])
TEAM_SIZES = st.sampled_from([None, "4", "many"])

INPUTS = st.builds(
    lambda email, phone, unique_id, first, tags, team, opt_in, must_exist, custom, notify: (
        LeadInput(
            email=email,
            phone=phone,
            unique_id=unique_id,
            first_name=first,
            tags=tags,
            journey_data=[JourneyDataInput("team_size", team)] if team is not None else [],
            opt_in=opt_in,
            must_exist=must_exist,
            custom_fields=custom,
            notifications=notify,
        )
    ),
    EMAILS,
    PHONES,
    UNIQUE_IDS,
    NAMES,
    TAGS,
    TEAM_SIZES,
    st.sampled_from([None, True, False]),
    st.sampled_from([False, False, False, True]),
    st.sampled_from([{}, {"plan": "pro"}, {"seats": 3}]),
    st.sampled_from([None, "auto-reply", "email", "nope"]),
)
FUNNELS = st.fixed_dictionaries(
    {
        "identifier": st.sampled_from(["email", "phone", "unique_id"]),
        "on_duplicate": st.sampled_from([OnDuplicate.UPDATE, OnDuplicate.REJECT]),
        "double_opt_in": st.booleans(),
        "notify_emails": st.sampled_from([None, ["staff@example.com"]]),
    }
)


def _world(funnel_fields: dict[str, Any]) -> Any:
    """A fresh workspace with one funnel, its API origin, and the data point inputs name."""
    ws = factories.workspace()
    funnel = factories.staged_funnel(ws, **funnel_fields)
    factories.data_point(ws, "team_size", type="number")
    return factories.origin(funnel, OriginKind.API)


def _one_by_one(origin: Any, inputs: list[LeadInput]) -> list[Outcome]:
    outcomes = []
    for lead_input in inputs:
        try:
            registration = register(origin, lead_input, RegistrationContext())
        except RegistrationError as error:
            db.session.rollback()
            db.session.expire_all()
            outcomes.append(Outcome.refused(error))
            continue
        outcomes.append(
            Outcome(
                status="created" if registration.created else "updated",
                lead_id=registration.lead.id,
                warnings=list(registration.warnings),
            )
        )
    return outcomes


def _seen(workspace_id: str, outcomes: list[Outcome]) -> dict[str, Any]:
    """What a client and staff see of the outcomes, with each lead named by the first input
    that touched it (ids differ between the workspaces)."""
    db.session.rollback()
    db.session.expire_all()
    names: dict[str, int] = {}
    for index, outcome in enumerate(outcomes):
        if outcome.lead_id is not None:
            names.setdefault(outcome.lead_id, index)
    leads = {}
    for lead in db.session.scalars(db.select(Lead).filter_by(workspace_id=workspace_id)):
        journey = db.session.scalar(db.select(Journey).filter_by(lead_id=lead.id))
        data = db.session.scalars(db.select(JourneyData.value).filter_by(journey_id=journey.id))
        events = db.session.scalars(
            db.select(Event.type).filter_by(lead_id=lead.id).order_by(Event.type)
        )
        leads[names[lead.id]] = {
            "fields": (lead.email, lead.phone, lead.unique_id, lead.first_name),
            "tags": lead.tags,
            "custom_fields": lead.custom_fields,
            "counter": lead.counter,
            "opt_in": lead.opt_in,
            "journey": (journey.status, len(journey.steps)),
            "journey_data": list(data),
            "events": list(events),
            "messages": sorted(
                (message.channel, message.target, message.status)
                for message in db.session.scalars(
                    db.select(OutboxMessage).filter_by(lead_id=lead.id)
                )
            ),
        }
    return {
        "outcomes": [
            (
                outcome.status,
                outcome.code,
                names.get(outcome.lead_id or ""),
                [(e.field, e.message) for e in outcome.errors],
                [(w.field, w.value) for w in outcome.warnings],
                names.get(outcome.existing_lead_id or ""),
            )
            for outcome in outcomes
        ],
        "leads": leads,
    }


@settings(
    max_examples=25,
    deadline=None,
    database=None,  # no files left in the checkout
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(funnel_fields=FUNNELS, inputs=st.lists(INPUTS, min_size=1, max_size=8))
def test_a_batch_registers_as_the_same_inputs_one_by_one(app, funnel_fields, inputs):
    singly, batched = _world(funnel_fields), _world(funnel_fields)

    one_by_one = _one_by_one(singly, inputs)
    in_a_batch = register_many(batched, inputs, RegistrationContext())

    assert _seen(batched.workspace_id, in_a_batch) == _seen(singly.workspace_id, one_by_one)
