"""The lead signs a text, watches a video and books a slot on their journey page; staff see the
signature as evidence and may mark a booking done."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from leadsite.extensions import db
from leadsite.journeys.engine import complete_step
from leadsite.models import Activity, Journey, JourneyStatus, Signature, StepStatus
from leadsite.public.tokens import journey_action_token
from tests import factories
from tests.conftest import csrf_token
from tests.public.lead_steps import TERMS, lead_journey, post_step, step

TERMS_SHA = hashlib.sha256(TERMS.encode()).hexdigest()


def _sign(client, journey, **fields: str):
    return post_step(client, journey, "The contract", "sign", fields)


def _to_meet(journey: Journey) -> None:
    """Past the "Papers" stage (its steps skipped), into "Meet"."""
    for title in ("Your ID", "The contract"):
        complete_step(step(journey, title), skipped=True)
        db.session.commit()


def test_signing_records_the_evidence(client):
    journey = lead_journey()
    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)
    assert "Line two: payment within 30 days." in page and "I agree." in page
    assert f'name="text_sha256" value="{TERMS_SHA}"' in page
    # The plain "Mark done" of lead tasks does not complete a step that asks for a signature.
    path = f"/j/{journey.access_token}/steps/{step(journey, 'The contract').id}"
    plain = client.post(path, data={"_token": journey_action_token(journey.id)})
    assert plain.status_code == 409 and step(journey, "The contract").status == StepStatus.DUE

    response = _sign(client, journey, name="  Ada   Lovelace ", consent="on", text_sha256=TERMS_SHA)

    assert response.status_code == 303
    signature = db.session.scalar(db.select(Signature))
    assert (signature.name, signature.text_sha256, signature.consent) == (
        "Ada Lovelace",
        TERMS_SHA,
        "I agree.",
    )
    assert (signature.ip, signature.user_agent) == ("203.0.113.7", "Probe/1.0")
    assert signature.lead_id == journey.lead_id and signature.signed_at is not None
    done = step(journey, "The contract")
    assert done.status == StepStatus.DONE
    assert done.result["signature_id"] == signature.id and done.result["text"] == TERMS
    assert done.result["ip"] == "203.0.113.7" and done.result["user_agent"] == "Probe/1.0"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"name": "A", "consent": "on"}, 422, "Type your full name to sign."),
        ({"name": "   ", "consent": "on"}, 422, "Type your full name to sign."),
        ({"name": "Ada Lovelace"}, 422, "Tick the box to agree, or you cannot sign."),
        ({"name": "Ada " * 60, "consent": "on"}, 422, "at most 200 characters"),
        (
            {"name": "Ada Lovelace", "consent": "on", "text_sha256": "0" * 64},
            409,
            "The text changed since you opened this page",
        ),
    ],
)
def test_a_signature_is_refused_with_a_message_on_its_field(client, fields, status, message):
    journey = lead_journey()

    response = _sign(client, journey, **{"text_sha256": TERMS_SHA, **fields})

    body = response.get_data(as_text=True)
    assert response.status_code == status and message in body
    assert db.session.scalar(db.select(Signature)) is None
    assert step(journey, "The contract").status == StepStatus.DUE
    if status == 422:
        assert 'aria-invalid="true"' in body


def test_staff_see_the_signature_on_the_lead_page(client, auth):
    ws = factories.workspace()
    journey = lead_journey(ws)
    _sign(client, journey, name="Ada Lovelace", consent="on", text_sha256=TERMS_SHA)
    auth.login(factories.user(ws).email)

    body = client.get(f"/p/leads/{journey.lead_id}").get_data(as_text=True)

    assert "Signatures" in body and "Ada Lovelace" in body
    assert "203.0.113.7" in body and "Probe/1.0" in body and TERMS_SHA in body
    assert "Line two: payment within 30 days." in body


def test_the_video_plays_embedded_and_is_done_when_marked_watched(client):
    journey = lead_journey(redirect_url="https://shop.example/next")
    before = client.get(f"/j/{journey.access_token}").headers["Content-Security-Policy"]
    _to_meet(journey)

    page = client.get(f"/j/{journey.access_token}")
    response = post_step(client, journey, "Intro video", "watched")

    body = page.get_data(as_text=True)
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in body
    assert "frame-src https://www.youtube-nocookie.com" in page.headers["Content-Security-Policy"]
    assert "frame-src" not in before  # framed only while the video is the lead's to watch
    assert response.status_code == 303
    watched = step(journey, "Intro video")
    assert watched.status == StepStatus.DONE and watched.result["watched"] is True
    assert watched.result["ip"] == "203.0.113.7"


def test_booking_goes_out_with_a_return_address_and_is_done_on_return(client):
    journey = lead_journey(redirect_url="https://shop.example/next")
    _to_meet(journey)
    booking = step(journey, "Book a call")
    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)
    assert f"/j/{journey.access_token}/steps/{booking.id}/book" in page

    out = client.get(
        f"/j/{journey.access_token}/steps/{booking.id}/book",
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )

    assert out.status_code == 303
    sent = urlsplit(out.headers["Location"])
    assert (sent.scheme, sent.netloc, sent.path) == ("https", "cal.example", "/ada")
    query = parse_qs(sent.query)
    assert query["week"] == ["1"]
    back = query["return"][0]
    assert back == f"http://localhost/j/{journey.access_token}/steps/{booking.id}/booked"
    clicked = step(journey, "Book a call")
    assert clicked.status == StepStatus.DUE and clicked.result["clicks"][0]["ip"] == "203.0.113.7"

    post_step(client, journey, "Intro video", "watched")
    returned = client.get(urlsplit(back).path, environ_base={"REMOTE_ADDR": "203.0.113.8"})

    assert returned.status_code == 303
    assert returned.headers["Location"] == "https://shop.example/next"  # all done: on to it
    done = step(journey, "Book a call")
    assert done.status == StepStatus.DONE and done.result["booked"] == "returned"
    assert done.result["ip"] == "203.0.113.8" and len(done.result["clicks"]) == 1
    assert db.session.get(Journey, journey.id).status == JourneyStatus.COMPLETED
    again = client.get(urlsplit(back).path)
    assert again.status_code == 303 and again.headers["Location"].endswith(journey.access_token)


def test_the_lead_may_say_they_booked(client):
    journey = lead_journey()
    _to_meet(journey)

    response = post_step(client, journey, "Book a call", "booked")

    assert response.status_code == 303
    assert step(journey, "Book a call").result["booked"] == "said"


def test_staff_mark_a_booking_done(client, auth):
    ws = factories.workspace()
    journey = lead_journey(ws)
    _to_meet(journey)
    person = factories.user(ws)
    auth.login(person.email)
    booking = step(journey, "Book a call")
    body = client.get(f"/p/leads/{journey.lead_id}").get_data(as_text=True)
    assert re.search(rf"steps/{booking.id}/done", body)

    response = client.post(
        f"/p/leads/{journey.lead_id}/steps/{booking.id}/done",
        data={"csrf_token": csrf_token(client, "/p/")},
    )

    assert response.status_code == 302
    done = step(journey, "Book a call")
    assert done.status == StepStatus.DONE and done.result == {"actor_id": person.id}


def test_a_stale_page_token_is_refused(client):
    journey = lead_journey()

    response = _sign(
        client, journey, name="Ada Lovelace", consent="on", text_sha256=TERMS_SHA, _token="x"
    )

    assert response.status_code == 400
    assert db.session.scalar(db.select(Signature)) is None


def test_a_changed_text_is_what_the_next_page_shows_and_hashes(client):
    journey = lead_journey()
    activity = db.session.get(Activity, step(journey, "The contract").activity_id)
    activity.config = {**activity.config, "text": "New terms."}
    db.session.commit()

    page = client.get(f"/j/{journey.access_token}").get_data(as_text=True)

    assert "New terms." in page
    assert hashlib.sha256(b"New terms.").hexdigest() in page
