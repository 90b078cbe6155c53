"""Stakeholder steps: the link emailed when the stage is entered, a missing address failing the
step, answers completing it (and feeding conditions), staff sending a new link."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.journeys.activities import validate_activity_config
from leadsite.journeys.stakeholder_answers import LinkClosed, Reply, answer, resend
from leadsite.journeys.stakeholders import find_link
from leadsite.models import (
    ActivityKind,
    DataPoint,
    JourneyData,
    JourneyStatus,
    StakeholderLink,
    StepStatus,
    utcnow,
)
from leadsite.outbox import event_types
from tests import factories
from tests.journeys.helpers import event_types as journey_event_types
from tests.journeys.helpers import steps, timeline
from tests.journeys.stakeholder_world import (
    TASK,
    emailed_token,
    emails_to,
    registered,
    stakeholder_funnel,
    task,
)

ACCOUNTANT = "books@ledger.example"


def test_entering_the_stage_emails_a_one_time_link_to_the_fixed_address():
    ws = factories.workspace("Acme")
    funnel = stakeholder_funnel(ws, email=ACCOUNTANT, instructions="Check the figures.")

    journey = registered(funnel)

    [email] = emails_to(ACCOUNTANT)
    token = emailed_token(ACCOUNTANT)
    assert email.payload["subject"] == f"{TASK}: Ada Lovelace"
    assert "Acme asks for your help with Ada Lovelace (Onboarding)" in email.payload["text"]
    assert "Check the figures." in email.payload["text"]
    assert email.payload["private"] is True  # the mailbox page does not show the key
    assert email.lead_id == journey.lead_id
    link = db.session.scalar(db.select(StakeholderLink))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(link.__dict__)  # only its hash is kept
    assert link.step_id == task(journey).id and link.email == ACCOUNTANT
    assert link.message_id == email.id
    assert timedelta(days=13, hours=23) < link.expires_at - utcnow() <= timedelta(days=14)
    assert task(journey).status == StepStatus.DUE


def test_the_address_comes_from_a_data_point_of_the_journey():
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email_data_point="accountant_email", valid_days=3)

    registered(funnel, accountant_email="Books@Ledger.example")

    assert len(emails_to(ACCOUNTANT)) == 1  # the address as email-validator normalises it
    link = db.session.scalar(db.select(StakeholderLink))
    assert link.email == ACCOUNTANT
    assert link.expires_at - utcnow() <= timedelta(days=3)


def test_no_address_fails_the_step_until_staff_fix_the_data_and_retry():
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email_data_point="accountant_email")

    journey = registered(funnel)

    step = task(journey)
    assert step.status == StepStatus.FAILED
    empty = "no stakeholder email: the data point accountant_email is empty"
    assert step.result == {"error": empty}
    assert event_types.JOURNEY_STEP_FAILED in journey_event_types(journey)
    assert db.session.scalar(db.select(StakeholderLink)) is None
    assert journey.current_stage.name == "Review"  # held
    point = db.session.scalar(db.select(DataPoint).filter_by(name="accountant_email"))
    db.session.add(JourneyData(journey_id=journey.id, data_point_id=point.id, value=ACCOUNTANT))
    db.session.commit()

    link = resend(task(journey))
    db.session.commit()

    assert link is not None and task(journey).status == StepStatus.DUE
    assert task(journey).result is None
    assert len(emails_to(ACCOUNTANT)) == 1


def test_an_address_that_is_not_one_fails_the_step_saying_so():
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email="nobody")

    journey = registered(funnel)

    assert task(journey).status == StepStatus.FAILED
    assert "holds no valid email address" in task(journey).result["error"]


def test_a_stage_delay_sends_the_email_when_the_step_falls_due():
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, delay_minutes=60, email=ACCOUNTANT)

    journey = registered(funnel)

    [email] = emails_to(ACCOUNTANT)
    assert email.next_attempt_at == task(journey).due_at
    assert task(journey).due_at > utcnow() + timedelta(minutes=59)


def test_approving_completes_the_step_and_the_journey_moves_on():
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email=ACCOUNTANT, decision_data_point="approval")
    journey = registered(funnel)
    link = find_link(emailed_token(ACCOUNTANT))

    errors = answer(link, Reply("approve", "Looks right", ip="203.0.113.5", user_agent="Mail/1"))
    db.session.commit()

    assert errors == {}
    step = task(journey)
    assert step.status == StepStatus.DONE
    assert step.result == {
        "by": "stakeholder",
        "stakeholder": ACCOUNTANT,
        "decision": "approved",
        "comment": "Looks right",
    }
    db.session.refresh(link)
    assert (link.decision, link.comment, link.ip, link.user_agent) == (
        "approved",
        "Looks right",
        "203.0.113.5",
        "Mail/1",
    )
    assert link.decided_at is not None
    assert journey.current_stage.name == "Welcome"
    assert steps(journey)["Call"].status == StepStatus.DUE
    data = db.session.scalar(db.select(JourneyData.value))
    assert data == "approved"


def test_a_rejection_needs_a_comment_and_a_condition_can_branch_on_it():
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email=ACCOUNTANT, decision_data_point="approval")
    # Welcome only when approved; otherwise the journey goes to "Follow up".
    welcome = funnel.stages[1]
    welcome.condition = {"rules": [{"field": "data.approval", "op": "eq", "value": "approved"}]}
    follow_up = factories.stage(funnel, "Follow up")
    factories.activity(follow_up, ActivityKind.STAFF_TASK, "Ask why")
    journey = registered(funnel)
    link = find_link(emailed_token(ACCOUNTANT))

    assert answer(link, Reply("reject", "  ")) == {
        "comment": "Say why you reject it: the comment is required."
    }
    db.session.rollback()
    db.session.expire_all()
    assert answer(link, Reply("maybe")) == {"decision": "Choose whether you approve or reject."}
    db.session.rollback()
    db.session.expire_all()
    assert task(journey).status == StepStatus.DUE

    assert answer(link, Reply("reject", "The VAT number is wrong")) == {}
    db.session.commit()

    assert task(journey).result["decision"] == "rejected"
    assert journey.current_stage.name == "Follow up"
    entered = [e for e in timeline(journey) if e.type == event_types.JOURNEY_STAGE_ENTERED][-1]
    assert entered.payload["skipped_stages"][0]["name"] == "Welcome"


def test_a_link_answers_once():
    ws = factories.workspace()
    journey = registered(stakeholder_funnel(ws, email=ACCOUNTANT))
    link = find_link(emailed_token(ACCOUNTANT))
    assert answer(link, Reply("approve")) == {}
    db.session.commit()

    with pytest.raises(LinkClosed):
        answer(link, Reply("reject", "changed my mind"))

    db.session.rollback()
    db.session.expire_all()
    assert task(journey).result["decision"] == "approved"


def test_staff_send_a_new_link_and_the_earlier_one_stops_working():
    ws = factories.workspace()
    journey = registered(stakeholder_funnel(ws, email=ACCOUNTANT))
    first = find_link(emailed_token(ACCOUNTANT))

    resend(task(journey))
    db.session.commit()

    assert len(emails_to(ACCOUNTANT)) == 2
    second = find_link(emailed_token(ACCOUNTANT))
    assert second.id != first.id
    db.session.refresh(first)
    assert first.expires_at <= utcnow() < second.expires_at
    with pytest.raises(LinkClosed):
        answer(first, Reply("approve"))
    db.session.rollback()
    db.session.expire_all()
    assert answer(second, Reply("approve")) == {}


def test_a_journey_that_ended_closes_the_link():
    ws = factories.workspace()
    journey = registered(stakeholder_funnel(ws, email=ACCOUNTANT))
    link = find_link(emailed_token(ACCOUNTANT))
    journey.status = JourneyStatus.CANCELLED
    db.session.commit()

    with pytest.raises(LinkClosed):
        answer(link, Reply("approve"))


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({}, "email: give either an email address or the data point holding one"),
        (
            {"email": "a@example.com", "email_data_point": "accountant_email"},
            "email: give either an email address or the data point holding one",
        ),
        ({"email": "not an address"}, "email: not an email address"),
        ({"email": "a@example.com", "action": "dance"}, "action: must be one of approve"),
        (
            {"email": "a@example.com", "action": "fill"},
            "data_points: choose the data points the stakeholder fills in",
        ),
        ({"email": "a@example.com", "valid_days": 0}, "valid_days: a whole number of days"),
        ({"email": "a@example.com", "valid_days": "7"}, "valid_days: a whole number of days"),
    ],
)
def test_a_stakeholder_config_that_cannot_work_is_refused(config, problem):
    [error] = validate_activity_config(ActivityKind.STAKEHOLDER_TASK, config)

    assert error.startswith(problem)


def test_a_workable_stakeholder_config_is_accepted():
    config = {"email_data_point": "accountant_email", "action": "fill", "data_points": ["x"]}

    assert validate_activity_config(ActivityKind.STAKEHOLDER_TASK, config) == []


def test_the_worker_leaves_a_stakeholder_step_to_the_stakeholder():
    from leadsite.journeys.engine import due_automatic_steps

    registered(stakeholder_funnel(factories.workspace(), email=ACCOUNTANT))

    assert db.session.scalars(due_automatic_steps()).all() == []


def test_values_a_stakeholder_fills_release_a_wait_until_of_the_stage():
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email=ACCOUNTANT, action="fill", data_points=["revenue"])
    review = funnel.stages[0]
    big = {"match": "all", "rules": [{"field": "data.revenue", "op": "gt", "value": 10}]}
    factories.activity(
        review, ActivityKind.WAIT_UNTIL, "Wait for revenue", condition=big, timeout={"days": 3}
    )
    db.session.commit()
    journey = registered(funnel)
    assert steps(journey)["Wait for revenue"].status == StepStatus.DUE

    errors = answer(find_link(emailed_token(ACCOUNTANT)), Reply(form={"data.revenue": "99"}))
    db.session.commit()

    assert errors == {}
    assert steps(journey)["Wait for revenue"].status == StepStatus.DONE
    assert steps(journey)["Wait for revenue"].result["outcome"] == "condition_held"
    db.session.refresh(journey)
    assert journey.current_stage.name == "Welcome"
