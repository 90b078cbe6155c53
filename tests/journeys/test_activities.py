"""Automatic activities: the emails, webhooks and lead changes a step makes when it runs."""

from __future__ import annotations

from typing import Any

import pytest

from leadsite.extensions import db
from leadsite.journeys.activities import validate_activity_config
from leadsite.journeys.emails import lead_id_from_unsubscribe_token
from leadsite.journeys.engine import complete_step, retry_step, run_step
from leadsite.models import (
    ActivityKind,
    DataPointType,
    Journey,
    JourneyStatus,
    LeadStatus,
    StepStatus,
    Workspace,
    utcnow,
)
from leadsite.representations import journey_url
from tests import factories
from tests.journeys.helpers import begin, event_types, outbox, steps, timeline


def one_activity_journey(
    ws: Workspace, kind: str, lead: dict[str, Any] | None = None, **config: Any
) -> Journey:
    """A journey in a funnel of one stage with one activity, then a stage to move on to."""
    funnel = factories.funnel(ws, notify_emails=["sales@example.com", "ops@example.com"])
    factories.activity(factories.stage(funnel, "Welcome"), kind, "Activity", **config)
    factories.activity(factories.stage(funnel, "Next"), ActivityKind.STAFF_TASK, "Next task")
    return begin(factories.lead(ws, **(lead or {})), funnel)


def run(journey: Journey) -> None:
    run_step(steps(journey)["Activity"])
    db.session.commit()


def test_email_lead_queues_the_rendered_email_with_the_journey_link_and_unsubscribe() -> None:
    ws = factories.workspace()
    company = factories.data_point(ws, "company")
    funnel = factories.funnel(ws, name="Onboarding")
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(
        welcome,
        ActivityKind.EMAIL_LEAD,
        "Welcome email",
        subject="Welcome, {{ lead.first_name }}!",
        body="Hi {{ lead.first_name }},\n\nHow is {{ data.company }}?\nSee {{ journey_url }}",
    )
    lead = factories.lead(ws, email="ada@example.com", first_name="Ada <b>")
    journey = begin(lead, funnel, {company: "Acme & Co"})

    run_step(steps(journey)["Welcome email"])
    db.session.commit()

    [message] = outbox("email")
    assert message.target == "ada@example.com"
    assert message.lead_id == lead.id
    assert message.payload["subject"] == "Welcome, Ada <b>!"
    text = message.payload["text"]
    assert text.startswith("Hi Ada <b>,\n\nHow is Acme & Co?\nSee " + journey_url(journey))
    assert "Ada &lt;b&gt;" in message.payload["html"]
    assert "Acme &amp; Co" in message.payload["html"]
    assert journey_url(journey) in message.payload["html"]
    unsubscribe = message.payload["headers"]["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://localhost/unsubscribe/")
    assert lead_id_from_unsubscribe_token(unsubscribe[1:-1].rsplit("/", 1)[1]) == lead.id
    assert message.payload["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in text
    step = steps(journey)["Welcome email"]
    assert step.status == StepStatus.DONE
    assert step.result["message_id"] == message.id
    assert journey.status == JourneyStatus.COMPLETED


def test_email_lead_without_a_body_sends_a_greeting_and_the_title_as_subject() -> None:
    journey = one_activity_journey(
        factories.workspace(), ActivityKind.EMAIL_LEAD, {"first_name": "Ada"}
    )
    run(journey)

    [message] = outbox("email")
    assert message.payload["subject"] == "Activity"
    assert message.payload["text"].startswith("Hello Ada,\n\nThank you for signing up.")


@pytest.mark.parametrize(
    ("lead", "reason"),
    [
        ({"email": None, "phone": "+12025550100"}, "the lead has no email address"),
        ({"opted_out_at": utcnow()}, "the lead has opted out"),
    ],
)
def test_email_lead_is_skipped_for_a_lead_it_cannot_write_to(
    lead: dict[str, Any], reason: str
) -> None:
    journey = one_activity_journey(factories.workspace(), ActivityKind.EMAIL_LEAD, lead)
    run(journey)

    step = steps(journey)["Activity"]
    assert step.status == StepStatus.SKIPPED
    assert step.result == {"reason": reason}
    assert outbox("email") == []
    assert journey.current_stage.name == "Next"  # skipped counts as finished


@pytest.mark.parametrize(
    "body",
    [
        "Hello {{ lead.first_name",  # does not parse
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",  # the sandbox refuses
        "{{ 'x' * 1000000 }}",  # too long
        "{{ 2 ** 100000 }}",  # too large
        "{{ lead.first_name.nope() }}",
    ],
)
def test_a_broken_template_fails_the_step_and_holds_the_journey(body: str) -> None:
    journey = one_activity_journey(factories.workspace(), ActivityKind.EMAIL_LEAD, body=body)
    run(journey)

    step = steps(journey)["Activity"]
    assert step.status == StepStatus.FAILED
    assert step.result["error"].startswith("the template")
    assert outbox("email") == []
    assert journey.current_stage.name == "Welcome"
    assert event_types(journey)[-1] == "journey.step_failed"


def test_a_failed_step_can_be_retried_or_skipped() -> None:
    journey = one_activity_journey(factories.workspace(), ActivityKind.SET_STATUS)
    run(journey)
    step = steps(journey)["Activity"]
    assert step.result == {"error": "no status is configured"}

    retry_step(step)
    assert step.status == StepStatus.DUE
    run(journey)
    assert step.status == StepStatus.FAILED
    assert step.attempts == 2

    complete_step(step, skipped=True)
    db.session.commit()
    assert journey.current_stage.name == "Next"


def test_notify_staff_emails_each_address_of_the_funnel() -> None:
    ws = factories.workspace()
    journey = one_activity_journey(
        ws,
        ActivityKind.NOTIFY_STAFF,
        {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
    )
    run(journey)

    messages = outbox("email")
    assert [message.target for message in messages] == ["ops@example.com", "sales@example.com"]
    for message in messages:
        assert message.payload["subject"] == "New lead in Onboarding: Ada Lovelace"
        assert "Email: ada@example.com" in message.payload["text"]
        assert f"http://localhost/p/leads/{journey.lead_id}" in message.payload["text"]
    assert steps(journey)["Activity"].result["to"] == ["sales@example.com", "ops@example.com"]


def test_notify_staff_can_name_its_own_addresses_and_skips_bad_ones() -> None:
    journey = one_activity_journey(
        factories.workspace(), ActivityKind.NOTIFY_STAFF, to=["boss@example.com", "not an email"]
    )
    run(journey)

    assert [message.target for message in outbox("email")] == ["boss@example.com"]
    assert steps(journey)["Activity"].result["invalid"] == ["not an email"]


def test_notify_staff_with_no_one_to_notify_is_skipped() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.NOTIFY_STAFF, "Tell")
    journey = begin(factories.lead(ws), funnel)
    run_step(steps(journey)["Tell"])

    assert steps(journey)["Tell"].status == StepStatus.SKIPPED
    assert outbox("email") == []


def test_webhook_writes_an_outbox_message_for_the_worker() -> None:
    journey = one_activity_journey(
        factories.workspace(), ActivityKind.WEBHOOK, url="https://crm.example.com/hook"
    )
    run(journey)

    [message] = outbox("webhook")
    assert message.target == "https://crm.example.com/hook"
    assert message.endpoint_id is None
    assert message.lead_id == journey.lead_id
    assert message.payload["type"] == "journey.activity"
    assert message.payload["data"]["lead"]["id"] == journey.lead_id
    assert message.payload["data"]["journey"]["id"] == journey.id
    assert message.payload["data"]["stage"]["name"] == "Welcome"


def test_webhook_without_a_usable_url_fails() -> None:
    journey = one_activity_journey(factories.workspace(), ActivityKind.WEBHOOK, url="ftp://x")
    run(journey)

    assert steps(journey)["Activity"].status == StepStatus.FAILED
    assert outbox("webhook") == []


def test_set_status_changes_the_lead_and_tells_its_webhooks() -> None:
    journey = one_activity_journey(factories.workspace(), ActivityKind.SET_STATUS, status="won")
    run(journey)

    assert journey.lead.status == "won"
    updated = [event for event in timeline(journey) if event.type == "lead.updated"]
    assert updated[0].payload["changes"] == {"status": {"from": "new", "to": "won"}}


def test_add_tag_adds_the_tag_once() -> None:
    journey = one_activity_journey(
        factories.workspace(), ActivityKind.ADD_TAG, {"tags": ["trial"]}, tag="vip"
    )
    run(journey)
    assert journey.lead.tags == ["trial", "vip"]

    again = one_activity_journey(
        factories.workspace(), ActivityKind.ADD_TAG, {"tags": ["vip"]}, tag="vip"
    )
    run(again)
    assert again.lead.tags == ["vip"]
    assert steps(again)["Activity"].result == {"tag": "vip", "added": False}


def test_tasks_for_people_are_never_run_automatically() -> None:
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.LEAD_TASK, "Profile")
    journey = begin(factories.lead(ws), funnel)

    run_step(steps(journey)["Profile"])

    assert steps(journey)["Profile"].status == StepStatus.DUE


@pytest.mark.parametrize(
    ("kind", "config", "errors"),
    [
        (ActivityKind.EMAIL_LEAD, {"subject": "Hi {{ lead.first_name }}"}, []),
        (ActivityKind.EMAIL_LEAD, {"body": "{% if %}"}, ["body: does not parse"]),
        (ActivityKind.NOTIFY_STAFF, {"to": ["a@example.com", "nope"]}, ["to: not an email"]),
        (ActivityKind.WEBHOOK, {"url": "https://example.com"}, []),
        (ActivityKind.WEBHOOK, {}, ["the webhook has no URL"]),
        (ActivityKind.SET_STATUS, {"status": "x" * 41}, ["the status must be at most 40"]),
        (ActivityKind.ADD_TAG, {"tag": " "}, ["no tag is configured"]),
        (ActivityKind.WAIT, {"days": 2}, []),
        (ActivityKind.WAIT, {"hours": -1}, ["the wait needs minutes, hours or days"]),
        (ActivityKind.WAIT, {"minutes": "ten"}, ["the wait needs minutes, hours or days"]),
        (ActivityKind.STAFF_TASK, {}, []),
        ("dance", {}, ["unknown activity kind 'dance'"]),
        (ActivityKind.WAIT, [], ["the config must be an object"]),
    ],
)
def test_activity_config_is_checked_before_it_runs(
    kind: str, config: Any, errors: list[str]
) -> None:
    found = validate_activity_config(kind, config)
    assert len(found) == len(errors)
    for message, start in zip(found, errors, strict=True):
        assert message.startswith(start)


def test_data_points_reach_the_staff_notification() -> None:
    ws = factories.workspace()
    size = factories.data_point(ws, "team_size", type=DataPointType.NUMBER)
    funnel = factories.funnel(ws, notify_emails=["sales@example.com"])
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.NOTIFY_STAFF, "Tell")
    journey = begin(factories.lead(ws), funnel, {size: 40})
    run_step(steps(journey)["Tell"])

    [message] = outbox("email")
    assert "team_size: 40" in message.payload["text"]


def test_the_staff_notification_names_the_status_as_staff_see_it() -> None:
    """It said "Status: new", the stored key, where every screen says "New" (or the name staff
    renamed it to)."""
    ws = factories.workspace()
    db.session.scalar(
        db.select(LeadStatus).filter_by(workspace_id=ws.id, key="new")
    ).name = "Fresh lead"
    funnel = factories.funnel(ws, notify_emails=["sales@example.com"])
    factories.activity(factories.stage(funnel, "Welcome"), ActivityKind.NOTIFY_STAFF, "Tell")
    journey = begin(factories.lead(ws), funnel, {})
    run_step(steps(journey)["Tell"])

    [message] = outbox("email")
    assert "Status: Fresh lead" in message.payload["text"]
    assert ">Fresh lead<" in message.payload["html"] and ">new<" not in message.payload["html"]
