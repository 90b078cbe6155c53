"""A webhook step is done when its delivery is answered 2xx: it waits (holding its stage) until
then, and fails (staff emailed, Retry and Skip on the lead page) when the delivery dies. The
activity form refuses the URLs the workspace's webhook settings refuse, in the same words."""

from __future__ import annotations

import html
import json

import pytest

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    Channel,
    Journey,
    JourneyStep,
    MessageStatus,
    OriginKind,
    OutboxMessage,
    StepStatus,
    utcnow,
)
from leadsite.outbox import worker
from leadsite.outbox.outcomes import MAX_ATTEMPTS
from tests import factories
from tests.backoffice import test_funnel_activities as activity_forms
from tests.backoffice import test_settings_webhooks as webhook_settings
from tests.conftest import csrf_token
from tests.journeys.helpers import event_types
from tests.servers import smtp_server, webhook_receiver

ANSWERED_500 = "HTTP 500 Internal Server Error — the server answered with an error"


def world(url: str, notify: list[str] | None = None):
    """A funnel whose first stage calls `url`, then a stage with a staff task; an administrator;
    a lead registered into it. Returns (lead id, journey, administrator)."""
    ws = factories.workspace("Acme")
    admin = factories.user(ws, email="admin@acme.example")
    funnel = factories.funnel(ws, notify_emails=notify or [])
    factories.activity(
        factories.stage(funnel, "Sync"), ActivityKind.WEBHOOK, "Tell the CRM", url=url
    )
    factories.activity(factories.stage(funnel, "Follow-up"), ActivityKind.STAFF_TASK, "Call")
    lead = factories.registered(
        factories.origin(funnel, OriginKind.API), email="ada@example.com", first_name="Ada"
    )
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=lead.id))
    return lead.id, journey, admin


def step(title: str = "Tell the CRM") -> JourneyStep:
    db.session.expire_all()
    return db.session.scalar(db.select(JourneyStep).filter_by(title=title))


def stage_name(journey: Journey) -> str | None:
    db.session.expire_all()
    journey = db.session.get(Journey, journey.id)
    return journey.current_stage.name if journey.current_stage else None


def webhooks() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            db.select(OutboxMessage)
            .filter_by(channel=Channel.WEBHOOK)
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )


def deliver_until_dead(message: OutboxMessage) -> None:
    """Deliver the message again and again, each retry brought forward to now."""
    for _ in range(MAX_ATTEMPTS):
        db.session.execute(
            db.update(OutboxMessage).filter_by(id=message.id).values(next_attempt_at=utcnow())
        )
        db.session.commit()
        worker.deliver_messages()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == MessageStatus.DEAD


def test_the_step_waits_for_its_delivery_and_is_done_on_a_200():
    with webhook_receiver(statuses=[200]) as receiver:
        _, journey, _ = world(receiver.url)

        worker.run_once()  # runs the step: it queues the delivery and waits

        waiting = step()
        [message] = webhooks()
        assert waiting.status == StepStatus.WAITING
        assert message.step_id == waiting.id
        assert stage_name(journey) == "Sync"

        worker.run_once()  # delivers it
        [received] = receiver.wait_for(1)

    done = step()
    assert json.loads(received.body)["data"]["step"]["id"] == done.id
    assert done.status == StepStatus.DONE
    assert done.result["status_code"] == 200
    assert done.result["delivered_at"] and done.result["message_id"] == message.id
    assert stage_name(journey) == "Follow-up"
    assert step("Call").status == StepStatus.DUE


def test_a_dead_delivery_fails_the_step_holds_the_stage_emails_staff_and_retry_moves_on(
    app, client, auth
):
    with webhook_receiver(statuses=[500]) as receiver:
        lead_id, journey, admin = world(receiver.url)
        worker.run_once()
        [message] = webhooks()

        with smtp_server() as (mailbox, port):
            app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
            try:
                deliver_until_dead(message)
                worker.deliver_messages()  # the staff email
            finally:
                app.config["MAIL_URL"] = None
            [email] = mailbox.wait_for(1)

        failed = step()
        assert len(receiver.requests) == MAX_ATTEMPTS
        assert failed.status == StepStatus.FAILED
        assert (
            failed.result["error"]
            == f"the delivery failed after {MAX_ATTEMPTS} attempts: {ANSWERED_500}"
        )
        assert failed.result["url"] == receiver.url
        assert stage_name(journey) == "Sync"
        assert step("Call").status == StepStatus.PENDING
        assert "journey.step_failed" in event_types(journey)
        assert email["To"] == admin.email
        assert email["Subject"] == "A webhook step failed: Tell the CRM (Ada, Onboarding)"
        assert ANSWERED_500 in email.get_body(("plain",)).get_content()

        auth.login(admin.email)
        page = client.get(f"/p/leads/{lead_id}").get_data(as_text=True)
        retry = f"/p/leads/{lead_id}/steps/{failed.id}/retry"
        assert f'action="{retry}"' in page
        assert f'action="/p/leads/{lead_id}/steps/{failed.id}/skip"' in page

        receiver.statuses = [200]
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        assert client.post(retry, data={"csrf_token": token}).status_code == 302
        worker.run_once()  # runs the step again: a new delivery
        worker.run_once()  # delivers it
        receiver.wait_for(MAX_ATTEMPTS + 1)

    assert step().status == StepStatus.DONE
    assert step().result["message_id"] != message.id
    assert stage_name(journey) == "Follow-up"


def test_a_redelivery_that_succeeds_completes_the_failed_step(client, auth):
    with webhook_receiver(statuses=[500]) as receiver:
        lead_id, journey, admin = world(receiver.url, notify=["ops@acme.example"])
        worker.run_once()
        [message] = webhooks()
        deliver_until_dead(message)
        assert step().status == StepStatus.FAILED
        staff = db.session.scalars(
            db.select(OutboxMessage.target).filter_by(channel=Channel.EMAIL)
        ).all()
        assert staff == ["ops@acme.example"]  # the funnel's notify emails, not the admins

        auth.login(admin.email)
        path = f"/p/leads/{lead_id}/deliveries/{message.id}/redeliver"
        receiver.statuses = [200]
        token = csrf_token(client, "/p/")
        assert client.post(path, data={"csrf_token": token}).status_code == 302
        worker.deliver_messages()
        receiver.wait_for(MAX_ATTEMPTS + 1)

    assert step().status == StepStatus.DONE
    assert step().result["message_id"] == message.id
    assert stage_name(journey) == "Follow-up"


def test_staff_may_skip_a_waiting_step_and_its_late_delivery_changes_nothing(client, auth):
    with webhook_receiver(statuses=[500, 200]) as receiver:
        lead_id, journey, admin = world(receiver.url)
        worker.run_once()  # the step waits
        worker.run_once()  # its first delivery fails: retried later
        [message] = webhooks()
        auth.login(admin.email)
        page = client.get(f"/p/leads/{lead_id}").get_data(as_text=True)
        skip = f"/p/leads/{lead_id}/steps/{step().id}/skip"
        assert f'action="{skip}"' in page and "(waiting for its delivery)" in page

        token = csrf_token(client, "/p/")
        assert client.post(skip, data={"csrf_token": token}).status_code == 302
        assert step().status == StepStatus.SKIPPED
        assert stage_name(journey) == "Follow-up"

        db.session.execute(
            db.update(OutboxMessage).filter_by(id=message.id).values(next_attempt_at=utcnow())
        )
        db.session.commit()
        worker.deliver_messages()  # answered 200 now
        receiver.wait_for(2)

    assert webhooks()[0].status == MessageStatus.DELIVERED
    assert step().status == StepStatus.SKIPPED
    assert stage_name(journey) == "Follow-up"


REFUSED = [
    ("ftp://hooks.example.com/x", "The URL must be an absolute http:// or https:// URL."),
    ("http://127.0.0.1/hook", "The URL must be a public address: 127.0.0.1 resolves to a"),
    ("http://localhost:8080/hook", "The URL must be a public address: localhost is this machine."),
    ("https://user:pw@hooks.example.com/x", "The URL must not contain a user name or password"),
    ("http://[x/", "The URL has a [ without its ] or an invalid IPv6 address."),
]


@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_the_activity_form_refuses_a_url_exactly_as_the_webhook_settings(
    app, client, auth, url, message
):
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    stage = factories.stage(factories.funnel(ws), "Sync")
    activity_path = f"/p/funnels/edit/{stage.funnel_id}/stages/{stage.id}/activities/new"
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        settings = webhook_settings._post(
            client, "/p/settings/webhooks", {**webhook_settings.ENDPOINT, "url": url}
        )
        activity = activity_forms._post(
            client, activity_path, activity_forms._form("webhook", url=url)
        )
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True

    assert settings.status_code == activity.status_code == 422
    said = [_url_error(response.get_data(as_text=True)) for response in (settings, activity)]
    assert said[0] == said[1]
    assert said[0].startswith(message)
    assert activity_forms._activities(stage) == []


def _url_error(body: str) -> str:
    """The error shown under the URL field."""
    marker = 'id="activity-url-error">' if 'id="activity-url-error"' in body else 'id="url-error">'
    return html.unescape(body.split(marker, 1)[1].split("</p>", 1)[0])
