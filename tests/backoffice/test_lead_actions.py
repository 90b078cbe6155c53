"""The lead page's buttons: staff tasks done, failed steps skipped or retried, redeliver, erase."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    Channel,
    DeliveryAttempt,
    Event,
    Journey,
    JourneyStatus,
    JourneyStep,
    Lead,
    MessageStatus,
    OutboxMessage,
    Role,
    StepStatus,
    Workspace,
)
from leadsite.outbox import event_types
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR):
    ws = ws or factories.workspace()
    person = factories.user(ws, role=role)
    auth.login(person.email)
    return ws, person


def _post(client, path: str, htmx: bool = True):
    token = csrf_token(client, "/p/")
    return client.post(path, data={"csrf_token": token}, headers=HTMX if htmx else None)


def _staff_task_lead(ws: Workspace) -> tuple[Lead, JourneyStep]:
    """A lead in a one-stage funnel whose only step is a staff task, due now."""
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Qualify")
    factories.activity(stage, ActivityKind.STAFF_TASK, "Call them")
    lead = factories.registered(factories.origin(funnel), email="ada@example.com")
    step = db.session.scalar(
        db.select(JourneyStep).join(Journey).filter(Journey.lead_id == lead.id)
    )
    assert step.status == StepStatus.DUE
    return lead, step


def _failed_step_lead(ws: Workspace) -> tuple[Lead, JourneyStep]:
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    factories.activity(stage, ActivityKind.EMAIL_LEAD, "Welcome email")
    lead = factories.registered(factories.origin(funnel), email="ada@example.com")
    step = db.session.scalar(
        db.select(JourneyStep).join(Journey).filter(Journey.lead_id == lead.id)
    )
    step.status, step.result = StepStatus.FAILED, {"error": "template does not render"}
    db.session.commit()
    return lead, step


def test_journeys_show_where_they_stand_and_why(client, auth):
    ws, _ = _sign_in(auth)
    lead, _ = _staff_task_lead(ws)

    body = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)

    journeys = body.split('id="lead-journeys"')[1].split('id="lead-deliveries"')[0]
    assert "In <strong>Qualify</strong>" in journeys
    # Not "because no condition", the event's word glued after "because".
    assert "because the stage has no entry condition" in journeys
    assert "Waiting on <em>Call them</em>" in journeys
    assert "Mark done" in journeys


def test_a_staff_task_is_marked_done_and_the_journey_moves_on(client, auth):
    ws, person = _sign_in(auth, role=Role.MANAGER)
    lead, step = _staff_task_lead(ws)

    response = _post(client, f"/p/leads/{lead.id}/steps/{step.id}/done")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="lead-journeys"')
    assert '<section id="lead-timeline"' in body and 'hx-swap-oob="true"' in body
    assert "“Call them” marked done." in body and f"by {person.email}" in body
    assert "Completed" in body  # the only stage is finished, so the journey is
    db.session.expire_all()
    step = db.session.get(JourneyStep, step.id)
    assert step.status == StepStatus.DONE and step.result == {"actor_id": person.id}
    assert db.session.get(Journey, step.journey_id).status == JourneyStatus.COMPLETED
    types = db.session.scalars(db.select(Event.type).filter_by(lead_id=lead.id)).all()
    assert event_types.JOURNEY_STEP_COMPLETED in types


def test_without_javascript_done_redirects_to_the_journeys(client, auth):
    ws, _ = _sign_in(auth)
    lead, step = _staff_task_lead(ws)

    response = _post(client, f"/p/leads/{lead.id}/steps/{step.id}/done", htmx=False)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/leads/{lead.id}#lead-journeys"


def test_only_staff_tasks_are_marked_done(client, auth):
    ws, _ = _sign_in(auth)
    lead, step = _failed_step_lead(ws)

    response = _post(client, f"/p/leads/{lead.id}/steps/{step.id}/done")

    assert response.status_code == 409
    assert "Only staff tasks" in response.get_data(as_text=True)


def test_a_pending_step_is_not_open(client, auth):
    ws, _ = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "First"), ActivityKind.STAFF_TASK, "One")
    factories.activity(factories.stage(funnel, "Second"), ActivityKind.STAFF_TASK, "Two")
    lead = factories.registered(factories.origin(funnel), email="ada@example.com")
    later = db.session.scalar(db.select(JourneyStep).filter_by(title="Two"))

    response = _post(client, f"/p/leads/{lead.id}/steps/{later.id}/done")

    assert response.status_code == 409 and "not open" in response.get_data(as_text=True)
    assert db.session.get(JourneyStep, later.id).status == StepStatus.PENDING


def test_a_failed_step_is_skipped_or_retried(client, auth):
    ws, _ = _sign_in(auth)
    lead, step = _failed_step_lead(ws)
    body = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)
    assert "template does not render" in body and ">Retry<" in body and ">Skip<" in body

    retried = _post(client, f"/p/leads/{lead.id}/steps/{step.id}/retry")
    db.session.expire_all()
    assert retried.status_code == 200 and db.session.get(JourneyStep, step.id).status == "due"

    step.status = StepStatus.FAILED
    db.session.commit()
    skipped = _post(client, f"/p/leads/{lead.id}/steps/{step.id}/skip")
    db.session.expire_all()
    assert skipped.status_code == 200
    assert db.session.get(JourneyStep, step.id).status == StepStatus.SKIPPED


def test_another_leads_step_is_not_found(client, auth):
    ws, _ = _sign_in(auth)
    lead, _ = _staff_task_lead(ws)
    other_ws = factories.workspace()
    _, foreign_step = _staff_task_lead(other_ws)
    mine_other = factories.lead(ws, email="other@example.com")

    assert _post(client, f"/p/leads/{lead.id}/steps/{foreign_step.id}/done").status_code == 404
    _, step = db.session.execute(
        db.select(Journey.id, JourneyStep.id).join(Journey).filter(Journey.lead_id == lead.id)
    ).one()
    assert _post(client, f"/p/leads/{mine_other.id}/steps/{step}/done").status_code == 404


def test_delivery_attempts_are_listed_and_a_message_redelivered(client, auth):
    ws, _ = _sign_in(auth)
    lead = factories.lead(ws)
    attempt = factories.delivery_attempt(lead, status_code=503, error="Service Unavailable")

    page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)
    response = _post(client, f"/p/leads/{lead.id}/deliveries/{attempt.message_id}/redeliver")

    deliveries = page.split('id="lead-deliveries"')[1]
    assert "503" in deliveries and "Service Unavailable" in deliveries
    assert "https://hooks.example.com/leads" in deliveries and "Redeliver" in deliveries
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="lead-deliveries"')
    assert "Queued again" in body and ">queued<" in body
    message = db.session.get(OutboxMessage, attempt.message_id)
    db.session.refresh(message)
    assert message.status == MessageStatus.PENDING


@pytest.mark.parametrize(
    ("status", "attempts", "said"),
    [
        (MessageStatus.PENDING, 2, "Will be tried again (2 attempts so far)"),
        (MessageStatus.DELIVERED, 1, "Delivered after 1 attempt"),
        (MessageStatus.DEAD, 9, "Given up after 9 attempts"),
    ],
)
def test_a_delivery_says_where_its_message_stands_in_words_that_read(
    client, auth, status, attempts, said
):
    """A message to be retried once read "Will be tried again after 2 attempts": as if two
    more attempts came before the next."""
    ws, _ = _sign_in(auth)
    lead = factories.lead(ws)
    attempt = factories.delivery_attempt(lead)
    message = db.session.get(OutboxMessage, attempt.message_id)
    message.status, message.attempts = status, attempts
    db.session.commit()

    page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)

    deliveries = page.split('id="lead-deliveries"')[1]
    assert said in deliveries and "again after" not in deliveries


def test_an_email_kept_in_the_dev_mailbox_is_not_said_to_be_delivered(client, auth):
    """MAIL_URL unset: the worker keeps emails in the dev mailbox, which the lead page says (with
    a link to read it) rather than "Delivered" under the banner that says they are not sent."""
    ws, _ = _sign_in(auth)
    lead = factories.lead(ws)
    attempt = factories.delivery_attempt(
        lead, success=True, status_code=None, error=None, target=lead.email
    )
    attempt.channel = Channel.EMAIL
    attempt.response_excerpt = "sent to dev-mailbox"
    db.session.get(OutboxMessage, attempt.message_id).channel = Channel.EMAIL
    db.session.commit()

    page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)

    deliveries = page.split('id="lead-deliveries"')[1].split("</section>")[0]
    assert "Delivered" not in deliveries and "delivered" not in deliveries
    assert "Kept in the dev mailbox, not sent" in deliveries
    assert f'href="/p/settings/mailbox/{attempt.message_id}"' in deliveries


def test_another_workspaces_message_is_not_redelivered(client, auth):
    ws, _ = _sign_in(auth)
    lead = factories.lead(ws)
    foreign = factories.delivery_attempt(factories.lead(factories.workspace()))

    response = _post(client, f"/p/leads/{lead.id}/deliveries/{foreign.message_id}/redeliver")

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(OutboxMessage, foreign.message_id).status == MessageStatus.DEAD


def test_erase_asks_first_then_keeps_an_anonymous_row(client, auth):
    ws, _ = _sign_in(auth, role=Role.MANAGER)
    lead = factories.lead(ws, email="ada@example.com", first_name="Ada", tags=["vip"])
    factories.delivery_attempt(lead)

    confirm = client.get(f"/p/leads/{lead.id}/erase")
    block = client.get(f"/p/leads/{lead.id}/erase", headers=HTMX)
    response = _post(client, f"/p/leads/{lead.id}/erase", htmx=False)

    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "cannot be undone" in text and "anonymous record" in text
    assert block.get_data(as_text=True).lstrip().startswith('<section id="erase-confirm"')
    assert response.status_code == 302 and response.headers["Location"] == f"/p/leads/{lead.id}"
    db.session.expire_all()
    lead = db.session.get(Lead, lead.id)
    assert lead.erased_at is not None and lead.email is None and lead.tags == []
    assert db.session.scalar(db.select(db.func.count(DeliveryAttempt.id))) == 1
