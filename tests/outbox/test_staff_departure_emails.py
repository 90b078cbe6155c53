"""Lead data by email stops reaching a deactivated member: `notify_staff` steps, a
registration's notify emails and emails queued before the deactivation and sent after, all
through a real SMTP server. A team inbox that is nobody's account keeps getting them."""

from __future__ import annotations

from email.message import Message

from leadsite import funnels
from leadsite.access import departures
from leadsite.extensions import db
from leadsite.journeys.webhook_steps import staff_recipients
from leadsite.models import (
    ActivityKind,
    Funnel,
    JourneyStep,
    Membership,
    MessageStatus,
    OriginKind,
    OutboxMessage,
    Role,
    StepStatus,
    User,
    Workspace,
)
from leadsite.outbox import worker
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.servers import smtp_server

TEAM = "sales@acme.example"


def _world() -> tuple[Workspace, Funnel, User, User]:
    """A workspace with two managers, Ana and Bo, and a funnel that tells them and the team
    inbox about each lead (a `notify_staff` step)."""
    ws = factories.workspace("Acme")
    ana = factories.user(ws, role=Role.MANAGER, email="ana@acme.example")
    bo = factories.user(ws, role=Role.MANAGER, email="Bo@acme.example")
    funnel = factories.funnel(ws, notify_emails=[TEAM, "ana@acme.example", "bo@acme.example"])
    funnels.add_activity(funnels.add_stage(funnel, "Welcome"), ActivityKind.NOTIFY_STAFF, "Tell")
    db.session.commit()
    return ws, funnel, ana, bo


def _deactivate(user: User, ws: Workspace) -> None:
    membership = db.session.scalar(
        db.select(Membership).filter_by(user_id=user.id, workspace_id=ws.id)
    )
    departures.deactivate(membership)
    db.session.commit()


def _register(funnel: Funnel, email: str = "ada@example.com") -> None:
    origin = factories.origin(funnel, OriginKind.API)
    register(origin, LeadInput(email=email, first_name="Ada"), RegistrationContext())


def _deliver(app, runs: int, expected: int) -> list[Message]:
    """Run the worker `runs` times against a real SMTP server; the emails that arrived. The
    worker sends within its run, so once `expected` are in nothing else is on its way."""
    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            for _ in range(runs):
                worker.run_once()
        finally:
            app.config["MAIL_URL"] = None
        return list(mailbox.wait_for(expected))


def test_a_deactivated_member_gets_no_notify_staff_email_and_the_others_do(app):
    ws, funnel, ana, _ = _world()
    _deactivate(ana, ws)

    _register(funnel)
    emails = _deliver(app, runs=2, expected=2)

    assert sorted(email["To"] for email in emails) == ["bo@acme.example", TEAM]
    step = db.session.scalar(db.select(JourneyStep))
    assert step.status == StepStatus.DONE
    assert step.result["to"] == [TEAM, "bo@acme.example"]
    assert step.result["deactivated"] == ["ana@acme.example"]


def test_a_deactivated_account_gets_no_notify_staff_email(app):
    _, funnel, ana, _ = _world()
    ana.active = False  # the account itself, not only its membership here
    db.session.commit()

    _register(funnel)
    emails = _deliver(app, runs=2, expected=2)

    assert sorted(email["To"] for email in emails) == ["bo@acme.example", TEAM]


def test_a_step_whose_every_recipient_is_deactivated_is_skipped_not_failed(app):
    ws, funnel, ana, bo = _world()
    funnel.notify_emails = ["ana@acme.example", "BO@acme.example"]
    db.session.commit()
    _deactivate(ana, ws)
    _deactivate(bo, ws)

    _register(funnel)
    emails = _deliver(app, runs=2, expected=0)

    assert emails == []
    step = db.session.scalar(db.select(JourneyStep))
    assert step.status == StepStatus.SKIPPED
    assert "deactivated members only" in step.result["reason"]


def test_an_email_queued_before_the_deactivation_is_not_sent_after_it(app):
    ws, funnel, ana, _ = _world()
    _register(funnel)
    worker.run_once()  # the step runs: three emails wait in the outbox
    waiting = db.select(OutboxMessage).filter_by(status=MessageStatus.PENDING)
    assert len(db.session.scalars(waiting).all()) == 3

    _deactivate(ana, ws)
    emails = _deliver(app, runs=1, expected=2)

    assert sorted(email["To"] for email in emails) == ["bo@acme.example", TEAM]
    held = db.session.scalar(db.select(OutboxMessage).filter_by(target="ana@acme.example"))
    db.session.refresh(held)
    assert held.status == MessageStatus.DEAD
    assert held.last_error == "not sent: ana@acme.example is a deactivated member of this workspace"


def test_a_registrations_own_notify_emails_skip_deactivated_members(app):
    from leadsite.registration.notify import queue_notifications

    ws, funnel, ana, _ = _world()
    _deactivate(ana, ws)
    lead = factories.lead(ws, email="ada@example.com")
    journey = factories.journey(lead, funnel)

    queue_notifications(funnel, lead, journey, ("email",), created=True)
    db.session.commit()
    emails = _deliver(app, runs=1, expected=2)

    assert sorted(email["To"] for email in emails) == ["bo@acme.example", TEAM]


def test_a_failed_steps_alert_goes_to_administrators_when_only_deactivated_members_are_left(
    app,
):
    ws, funnel, ana, _ = _world()
    admin = factories.user(ws, email="admin@acme.example")
    gone_admin = factories.user(ws, email="gone@acme.example")
    funnel.notify_emails = ["ana@acme.example"]
    db.session.commit()
    _deactivate(ana, ws)
    _deactivate(gone_admin, ws)

    assert staff_recipients(funnel) == [admin.email]
