"""A large batch's new rows go to PostgreSQL with COPY (one per table, not an INSERT per row on
the server), and are the rows a registration on its own writes with INSERTs; a COPY that meets a
unique constraint fails as an INSERT would, so that the batch retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from leadsite.extensions import db
from leadsite.models import Event, Journey, JourneyStep, Lead, OriginKind, OutboxMessage
from leadsite.models.rows import COPY_MIN_ROWS, NewRows
from leadsite.registration import LeadInput, RegistrationContext, register
from leadsite.registration.batch import register_many
from tests import factories
from tests.statements import captured_statements

SIZE = COPY_MIN_ROWS + 20


def _inputs(count: int) -> list[LeadInput]:
    return [
        LeadInput(email=f"p{n}@example.com", first_name=f"P{n}", custom_fields={"c": "x"})
        for n in range(count)
    ]


def _columns(obj: Any, leave_out: set[str]) -> dict[str, Any]:
    return {
        column.key: getattr(obj, column.key)
        for column in type(obj).__table__.columns
        if column.key not in leave_out
    }


def test_a_large_batch_writes_each_table_with_one_copy_on_postgresql_and_the_same_rows():
    ws = factories.workspace()
    factories.webhook_endpoint(ws)
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.IMPORT)
    db.session.commit()

    with captured_statements(lambda s: s.startswith(("INSERT", "COPY"))) as captured:
        outcomes = register_many(origin, _inputs(SIZE), RegistrationContext())
    alone = register(
        origin, LeadInput(email="alone@example.com", first_name="P0"), RegistrationContext()
    )
    db.session.commit()

    assert [outcome.status for outcome in outcomes] == ["created"] * SIZE
    verbs = {
        statement.split()[0] + " " + statement.split()[2 if statement.startswith("INSERT") else 1]
        for statement, _ in captured
    }
    tables = ("leads", "journeys", "journey_steps", "events", "outbox_messages")
    if db.engine.dialect.name == "postgresql":
        assert {f"COPY {table}" for table in tables} <= verbs
        assert not {f"INSERT {table}" for table in tables} & verbs
    else:
        assert {f"INSERT {table}" for table in tables} <= verbs
    counts = {
        model.__tablename__: db.session.scalar(db.select(db.func.count()).select_from(model))
        for model in (Lead, Journey, JourneyStep, Event, OutboxMessage)
    }
    steps = len(db.session.get(Journey, alone.journey.id).steps)
    events = db.session.scalar(
        db.select(db.func.count()).select_from(Event).where(Event.lead_id == alone.lead.id)
    )
    assert counts["leads"] == SIZE + 1 and counts["journeys"] == SIZE + 1
    assert counts["journey_steps"] == (SIZE + 1) * steps
    assert counts["events"] == (SIZE + 1) * events
    assert counts["outbox_messages"] > SIZE

    # The first input's rows (COPY on PostgreSQL) are those the registration alone wrote.
    db.session.expunge_all()
    copied = db.session.scalar(db.select(Lead).filter_by(email="p0@example.com"))
    inserted = db.session.get(Lead, alone.lead.id)
    differ = {"id", "email", "email_key", "created_at", "updated_at", "share_code", "custom_fields"}
    differ |= {"search_text", "counter", "social_id"}
    assert _columns(copied, differ) == _columns(inserted, differ)
    assert copied.custom_fields == {"c": "x"} and inserted.consent is None
    unset = db.select(db.func.count()).select_from(Lead).where(Lead.consent.is_(None))
    assert db.session.scalar(unset) == SIZE + 1  # SQL NULL, not JSON null, both ways
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=copied.id))
    leave = {"id", "lead_id", "access_token", "valid_until", "created_at", "updated_at"}
    leave |= {"entered_stage_at", "stage_entered_at", "last_activity_at"}
    alone_journey = db.session.get(Journey, alone.journey.id)
    assert _columns(journey, leave) == _columns(alone_journey, leave)
    assert [step.status for step in journey.steps] == [step.status for step in alone_journey.steps]
    created = db.session.scalar(
        db.select(Event.payload).where(Event.lead_id == copied.id, Event.type == "lead.created")
    )
    assert created["email"] == "p0@example.com"
    assert created["registration"]["origin_id"] == origin.id


def test_a_copy_that_meets_a_unique_constraint_raises_integrity_error():
    ws = factories.workspace()
    db.session.add(Lead(workspace_id=ws.id, email="taken@example.com"))
    db.session.commit()
    rows = NewRows()
    for n in range(SIZE):
        rows.add(Lead(workspace_id=ws.id, email="taken@example.com" if n == 50 else f"n{n}@x.org"))

    with pytest.raises(IntegrityError):
        rows.write(db.session)
    db.session.rollback()

    assert db.session.scalar(db.select(db.func.count()).select_from(Lead)) == 1


def test_new_leads_of_a_batch_and_alone_have_their_names_search_keys():
    ws = factories.workspace()
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.IMPORT)
    db.session.commit()
    inputs = [
        LeadInput(email=f"p{n}@example.com", first_name="Émile", last_name=f"García{n}")
        for n in range(SIZE)
    ]

    register_many(origin, inputs, RegistrationContext())
    register(
        origin, LeadInput(email="alone@example.com", first_name="ÉMILE"), RegistrationContext()
    )
    db.session.commit()

    keys = db.session.execute(
        db.select(Lead.email, Lead.first_name_key, Lead.last_name_key).order_by(Lead.email)
    ).all()
    assert ("alone@example.com", "emile", None) in keys
    assert ("p7@example.com", "emile", "garcia7") in keys
    assert {first for _, first, _ in keys} == {"emile"}


def test_timestamps_written_in_bulk_read_back_and_compare_as_written():
    ws = factories.workspace()
    db.session.commit()
    base = datetime(2026, 12, 7, 3, 4, 5, tzinfo=UTC)
    times = [base + timedelta(seconds=n, microseconds=n % 3) for n in range(SIZE)]
    times[1] = base.astimezone(timezone(timedelta(hours=2))) + timedelta(seconds=1)  # not UTC
    rows = NewRows()
    for n, when in enumerate(times):
        rows.add(Lead(workspace_id=ws.id, email=f"n{n}@x.org", created_at=when, updated_at=when))
    rows.write(db.session)
    db.session.commit()
    db.session.expunge_all()

    read = dict(db.session.execute(db.select(Lead.email, Lead.created_at)).all())
    assert [read[f"n{n}@x.org"] for n in range(SIZE)] == times
    later = db.select(db.func.count()).select_from(Lead).where(Lead.created_at > times[1])
    assert db.session.scalar(later) == SIZE - 2
