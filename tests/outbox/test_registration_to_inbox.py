"""End to end: a registration's journey runs in the worker and the emails reach an SMTP server."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import ActivityKind, JourneyStep, OriginKind, StepStatus
from leadsite.outbox import worker
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.servers import smtp_server


def test_the_auto_reply_and_the_staff_notification_arrive_by_smtp(app):
    from leadsite import funnels

    ws = factories.workspace("Acme")
    ws.sender_email = "hello@acme.example"
    funnel = factories.funnel(ws, notify_emails=["sales@acme.example"])
    welcome = funnels.add_stage(funnel, "Welcome")
    funnels.add_activity(
        welcome,
        ActivityKind.EMAIL_LEAD,
        "Auto-reply",
        subject="Welcome, {{ lead.first_name }}",
        body="Thanks for signing up for {{ funnel }}.",
    )
    funnels.add_activity(welcome, ActivityKind.NOTIFY_STAFF, "Tell sales")
    db.session.commit()
    origin = factories.origin(funnel, OriginKind.API)
    register(origin, LeadInput(email="ada@example.com", first_name="Ada"), RegistrationContext())

    with smtp_server() as (mailbox, port):
        app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
        try:
            worker.run_once()  # runs the due steps: they queue the two emails
            worker.run_once()  # delivers them
        finally:
            app.config["MAIL_URL"] = None
        emails = {email["To"]: email for email in mailbox.wait_for(2)}

    assert set(emails) == {"ada@example.com", "sales@acme.example"}
    reply = emails["ada@example.com"]
    assert reply["Subject"] == "Welcome, Ada"
    assert "Thanks for signing up for Onboarding." in reply.get_body(("plain",)).get_content()
    assert reply["List-Unsubscribe"].startswith("<http://localhost/unsubscribe/")
    assert "ada@example.com" in emails["sales@acme.example"].get_body(("plain",)).get_content()
    steps = db.session.scalars(db.select(JourneyStep.status)).all()
    assert steps == [StepStatus.DONE, StepStatus.DONE]
