"""A journey whose lead uploads, signs, watches and books, for the front-office step tests."""

from __future__ import annotations

from werkzeug.test import TestResponse

from leadsite.extensions import db
from leadsite.models import ActivityKind, Journey, JourneyStep, OriginKind, Workspace
from leadsite.public.tokens import journey_action_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories

TERMS = "I, the undersigned, agree to the terms.\nLine two: payment within 30 days."


def lead_journey(ws: Workspace | None = None, redirect_url: str | None = None) -> Journey:
    """Stage "Papers": upload (pdf or png, 1 MB, two files needed) and sign; stage "Meet":
    a video and a booking."""
    ws = ws or factories.workspace()
    funnel = factories.funnel(ws, name="Onboarding")
    papers = factories.stage(funnel, "Papers")
    factories.activity(
        papers,
        ActivityKind.UPLOAD,
        "Your ID",
        accept=["pdf", "png"],
        max_mb=1,
        min_files=2,
        description="Both sides of your ID.",
    )
    factories.activity(papers, ActivityKind.SIGN, "The contract", text=TERMS, consent="I agree.")
    meet = factories.stage(funnel, "Meet")
    factories.activity(
        meet, ActivityKind.VIDEO, "Intro video", url="https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    factories.activity(
        meet, ActivityKind.BOOKING, "Book a call", url="https://cal.example/ada?week=1"
    )
    origin = factories.origin(funnel, OriginKind.PAGE)
    lead_input = LeadInput(email="ada@example.com", first_name="Ada", redirect_url=redirect_url)
    return register(origin, lead_input, RegistrationContext()).journey


def step(journey: Journey, title: str) -> JourneyStep:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(db.select(JourneyStep).filter_by(journey_id=journey.id, title=title))


def post_step(
    client, journey: Journey, title: str, action: str, data: dict | None = None, **kw
) -> TestResponse:
    """POST one of the step's actions as the journey page's form does."""
    path = f"/j/{journey.access_token}/steps/{step(journey, title).id}/{action}"
    sent = {"_token": journey_action_token(journey.id), **(data or {})}
    environ = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Probe/1.0"}
    return client.post(path, data=sent, environ_base=environ, **kw)
