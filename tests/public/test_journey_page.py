"""The lead's journey page /j/<token>: stages, tasks, data points, progress, expiry."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    Channel,
    DataPoint,
    DataPointType,
    Journey,
    JourneyData,
    JourneyStep,
    OriginKind,
    OutboxMessage,
    StepStatus,
    utcnow,
)
from leadsite.public.tokens import journey_action_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories

TOKEN = re.compile(r'name="_token" value="([^"]+)"')


@pytest.fixture
def journey() -> Journey:
    """A registered lead in the Welcome stage: a task asking for data, a task with a link, a
    staff task; the Follow-up stage has one more task for the lead."""
    ws = factories.workspace()
    factories.data_point(ws, "company")
    factories.data_point(ws, "team_size", type=DataPointType.NUMBER)
    funnel = factories.funnel(ws, name="Beta programme")
    welcome = factories.stage(funnel, "Welcome")
    factories.activity(
        welcome, ActivityKind.LEAD_TASK, "About you", data_points=["company", "team_size"]
    )
    factories.activity(
        welcome,
        ActivityKind.LEAD_TASK,
        "Watch the intro",
        url="https://video.example/intro",
        link_label="Watch the video",
        description="Five minutes.",
    )
    factories.activity(welcome, ActivityKind.STAFF_TASK, "Check the account")
    follow_up = factories.stage(funnel, "Follow-up")
    factories.activity(follow_up, ActivityKind.LEAD_TASK, "Book a call")
    origin = factories.origin(funnel, OriginKind.PAGE)
    lead_input = LeadInput(
        email="ada@example.com", first_name="Ada", redirect_url="https://shop.example/next"
    )
    return register(origin, lead_input, RegistrationContext()).journey


def step(journey: Journey, title: str) -> JourneyStep:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalar(db.select(JourneyStep).filter_by(journey_id=journey.id, title=title))


def done(client, journey: Journey, title: str, **data: str):
    path = f"/j/{journey.access_token}/steps/{step(journey, title).id}"
    return client.post(path, data={"_token": journey_action_token(journey.id), **data})


def test_the_page_shows_stages_tasks_and_progress(client, journey):
    response = client.get(f"/j/{journey.access_token}")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Beta programme</h1>" in body and "Hello Ada" in body
    assert re.search(r'stage-current" aria-current="step">.*Welcome', body, re.S)
    assert re.search(r"stage-upcoming.*Follow-up.*Book a call", body, re.S)
    assert "Check the account" not in body  # staff work is not the lead's concern
    assert 'id="f-data-company"' in body and 'id="f-data-team-size"' in body
    assert 'href="https://video.example/intro"' in body and "Five minutes." in body
    assert '<progress max="3" value="0"' in body and "0 of 3 done" in body
    assert "<strong>Next:</strong> About you" in body and "Now: <strong>Welcome</strong>" in body
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "form-action 'self' https://shop.example;" in response.headers["Content-Security-Policy"]


def test_mark_done_completes_the_step(client, journey):
    response = done(client, journey, "Watch the intro")

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/j/{journey.access_token}?saved=1")
    completed = step(journey, "Watch the intro")
    assert completed.status == StepStatus.DONE
    assert completed.result["by"] == "lead"
    assert "Thank you: that is done." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_label_that_says_your_already_is_not_asked_for_with_your_your(client, journey):
    # Found from outside on the demo's Account opening journey: "Enter your your
    # accountant's email" under the field labelled "Your accountant's email".
    point = db.session.scalar(db.select(DataPoint).filter_by(name="company"))
    point.label = "Your company"
    db.session.commit()

    response = done(client, journey, "About you", **{"data.company": "", "data.team_size": "3"})

    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Enter your company" in body and "your your" not in body.lower()


def test_requested_data_points_are_checked_and_kept_when_wrong(client, journey):
    response = done(client, journey, "About you", **{"data.company": "", "data.team_size": "many"})

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter your company" in body
    assert "Team size must be a number" in body and 'value="many"' in body
    assert 'aria-invalid="true" autofocus' in body
    assert step(journey, "About you").status == StepStatus.DUE
    assert db.session.scalar(db.select(JourneyData)) is None


def test_requested_data_points_are_stored_before_the_task_is_done(client, journey):
    response = done(
        client, journey, "About you", **{"data.company": "Engines Ltd", "data.team_size": "12"}
    )

    assert response.status_code == 303
    data = {d.data_point.name: d.value for d in db.session.scalars(db.select(JourneyData))}
    assert data == {"company": "Engines Ltd", "team_size": 12}
    assert step(journey, "About you").result["data"] == {"company": "Engines Ltd", "team_size": 12}
    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)
    assert 'About you<span class="sr"> (done)</span>' in page


def test_when_every_task_of_the_lead_is_done_they_go_to_the_redirect_url(client, journey):
    done(client, journey, "About you", **{"data.company": "E", "data.team_size": "3"})
    done(client, journey, "Watch the intro")
    staff = step(journey, "Check the account")
    from leadsite.journeys.engine import complete_step

    complete_step(staff)
    db.session.commit()

    last = done(client, journey, "Book a call")

    assert last.status_code == 303
    assert last.headers["Location"] == "https://shop.example/next"
    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)
    assert "All done" in page and '<progress max="3" value="3"' in page
    assert "3 of 3 done" in page


def test_a_task_of_a_later_stage_cannot_be_done_yet(client, journey):
    response = done(client, journey, "Book a call")

    assert response.status_code == 409
    assert step(journey, "Book a call").status == StepStatus.PENDING


def test_a_bad_action_token_changes_nothing(client, journey):
    path = f"/j/{journey.access_token}/steps/{step(journey, 'Watch the intro').id}"

    response = client.post(path, data={"_token": journey_action_token("jrn_other")})

    assert response.status_code == 400
    assert "open for a long time" in response.get_data(as_text=True)
    assert step(journey, "Watch the intro").status == StepStatus.DUE


def test_an_unknown_token_is_404(client):
    response = client.get("/j/not-a-token")

    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)


def test_an_expired_link_offers_to_email_a_fresh_one(client, journey):
    old_token = journey.access_token
    journey.valid_until = utcnow() - timedelta(minutes=1)
    db.session.commit()

    shown = client.get(f"/j/{old_token}")
    blocked = done(client, journey, "Watch the intro")
    renewed = client.post(f"/j/{old_token}/renew")

    assert shown.status_code == blocked.status_code == 410
    assert f'action="/j/{old_token}/renew"' in shown.get_data(as_text=True)
    assert renewed.status_code == 200
    assert "a•••@example.com" in renewed.get_data(as_text=True)
    db.session.rollback()
    db.session.expire_all()
    fresh = db.session.get(Journey, journey.id)
    assert fresh.access_token != old_token and fresh.valid_until > utcnow() + timedelta(days=6)
    [email] = db.session.scalars(
        db.select(OutboxMessage).filter_by(channel=Channel.EMAIL, target="ada@example.com")
    ).all()
    assert f"http://localhost/j/{fresh.access_token}" in email.payload["text"]
    assert "/unsubscribe/" in email.payload["text"]
    assert client.get(f"/j/{old_token}").status_code == 404
    assert client.get(f"/j/{fresh.access_token}").status_code == 200


def test_renewing_a_link_that_still_works_just_opens_it(client, journey):
    response = client.post(f"/j/{journey.access_token}/renew")

    assert response.status_code == 303
    assert db.session.scalar(db.select(OutboxMessage).filter_by(channel=Channel.EMAIL)) is None
