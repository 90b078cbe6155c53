"""A batch reads the workspace's lead statuses and the data points its inputs name once, not once
an input (an import's rows with a status column or `data:` columns), and validates each input as
a registration on its own does: the same values stored, the same refusals."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import JourneyData, Lead, OriginKind
from leadsite.registration import LeadInput, RegistrationContext, register
from leadsite.registration.batch import register_many
from leadsite.registration.errors import ValidationFailed
from leadsite.registration.inputs import JourneyDataInput
from tests import factories
from tests.statements import captured_statements

SIZE = 30


def _reads(table: str):
    return lambda statement: statement.startswith("SELECT") and f"FROM {table}" in statement


def test_a_batch_reads_statuses_and_data_points_once_and_stores_every_input_s_values():
    ws = factories.workspace()
    factories.data_point(ws, "company")
    factories.data_point(ws, "team")
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.IMPORT)
    db.session.commit()
    inputs = [
        LeadInput(
            email=f"p{n}@example.com",
            status="contacted" if n % 2 else "qualified",
            # The same names in other cases and order from one input to the next.
            journey_data=[
                JourneyDataInput("Company" if n % 3 else "company", f"C{n}"),
                JourneyDataInput("TEAM", f"T{n}"),
            ],
        )
        for n in range(SIZE)
    ]

    with (
        captured_statements(_reads("lead_statuses")) as statuses,
        captured_statements(_reads("data_points")) as points,
    ):
        outcomes = register_many(origin, inputs, RegistrationContext())
    db.session.commit()

    assert [outcome.status for outcome in outcomes] == ["created"] * SIZE
    assert len(statuses) == 1
    assert len(points) == 1
    stored = dict(db.session.execute(db.select(Lead.email, Lead.status)).all())
    assert stored == {
        f"p{n}@example.com": "contacted" if n % 2 else "qualified" for n in range(SIZE)
    }
    data = db.session.scalars(db.select(JourneyData.value)).all()
    assert sorted(data) == sorted([f"C{n}" for n in range(SIZE)] + [f"T{n}" for n in range(SIZE)])
    first = db.session.scalar(db.select(JourneyData).order_by(JourneyData.id))
    assert first.created_at == first.updated_at and first.id.startswith("jd_")


def test_a_batch_refuses_an_unknown_status_or_data_point_as_a_registration_alone_does():
    ws = factories.workspace()
    factories.data_point(ws, "company")
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.IMPORT)
    db.session.commit()
    bad = [
        LeadInput(email="a@example.com", status="nonsense"),
        LeadInput(email="b@example.com", journey_data=[JourneyDataInput("nothing", "x")]),
        # Known once stripped, but not as written: refused alone, so in a batch too, even
        # after another input named it plainly.
        LeadInput(email="c@example.com", journey_data=[JourneyDataInput("company", "x")]),
        LeadInput(email="d@example.com", journey_data=[JourneyDataInput(" Company ", "y")]),
    ]

    in_batch = register_many(origin, bad, RegistrationContext())
    db.session.rollback()
    alone = []
    for lead_input in bad:
        try:
            register(origin, lead_input, RegistrationContext())
            alone.append(None)
        except ValidationFailed as error:
            alone.append([(e.field, e.message) for e in error.errors])
        db.session.rollback()

    refused = [
        [(e.field, e.message) for e in outcome.errors] if outcome.errors else None
        for outcome in in_batch
    ]
    assert refused == alone
    assert refused[0] and refused[0][0][0] == "status"
    assert refused[1] and refused[1][0][0] == "journey_data[0].name"
    assert refused[2] is None
    assert refused[3] and refused[3][0][0] == "journey_data[0].name"
