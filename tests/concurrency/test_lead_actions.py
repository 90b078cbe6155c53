"""The other write paths than registration, each sent PARALLEL times at once through a real
server: a lead's sign, data task, upload, video and booking steps; a double opt-in
confirmation and an unsubscribe; a stakeholder's answer; staff moving a lead and marking a task
done. Expected: no 5xx and no traceback in the server's log; each action done once (one
signature, one completion, one event), the other requests told it is done already.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from leadsite.extensions import db
from leadsite.journeys.emails import unsubscribe_token
from leadsite.journeys.lead_activity_config import text_hash
from leadsite.models import (
    ActivityKind,
    Event,
    Journey,
    JourneyData,
    JourneyFile,
    JourneyStep,
    Lead,
    OriginKind,
    Signature,
    StepStatus,
)
from leadsite.public.tokens import confirm_token, journey_action_token
from leadsite.registration import LeadInput, RegistrationContext, register
from leadsite.registration.held import hold
from tests import factories
from tests.concurrency.conftest import KINDS, serve
from tests.conftest import CSRF_INPUT
from tests.journeys.stakeholder_world import emailed_token, stakeholder_funnel
from tests.journeys.stakeholder_world import registered as stakeholder_registered
from tests.journeys.stakeholder_world import task as stakeholder_task
from tests.public.lead_steps import TERMS

PARALLEL = 12
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _parallel(send: Any, count: int = PARALLEL) -> list[requests.Response]:
    """`send(index)` called `count` times at the same moment, one thread each."""
    start = threading.Barrier(count)

    def one(index: int) -> requests.Response:
        start.wait()
        return send(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def _post(url: str, data: dict[str, Any], **options: Any) -> requests.Response:
    return requests.post(url, data=data, allow_redirects=False, timeout=60, **options)


def _statuses(answers: list[requests.Response]) -> Counter[int]:
    return Counter(answer.status_code for answer in answers)


def _events(lead_id: str) -> Counter[str]:
    return Counter(db.session.scalars(db.select(Event.type).filter_by(lead_id=lead_id)))


def _completions(step_id: str) -> int:
    events = db.session.scalars(db.select(Event).filter_by(type="journey.step_completed"))
    return sum(1 for event in events if (event.payload.get("step") or {}).get("id") == step_id)


def _lead_steps_world() -> Journey:
    """Stage "Papers": sign, upload (two files) and a data task; stage "Meet": a video."""
    ws = factories.workspace("Acme")
    factories.data_point(ws, "company", label="Company")
    funnel = factories.funnel(ws, name="Onboarding")
    papers = factories.stage(funnel, "Papers")
    factories.activity(papers, ActivityKind.SIGN, "The contract", text=TERMS, consent="I agree.")
    factories.activity(papers, ActivityKind.UPLOAD, "Your ID", accept=["png"], min_files=2)
    factories.activity(papers, ActivityKind.LEAD_TASK, "About you", data_points=["company"])
    meet = factories.stage(funnel, "Meet")
    factories.activity(meet, ActivityKind.VIDEO, "Intro", url="https://www.youtube.com/watch?v=x")
    origin = factories.origin(funnel, OriginKind.PAGE)
    lead_input = LeadInput(email="ada@example.com", first_name="Ada")
    return register(origin, lead_input, RegistrationContext()).journey


def _step(journey_id: str, title: str) -> JourneyStep:
    return db.session.scalar(db.select(JourneyStep).filter_by(journey_id=journey_id, title=title))


@pytest.mark.parametrize("kind", KINDS)
def test_a_lead_s_step_actions_sent_at_once_are_done_once(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    journey = _lead_steps_world()
    journey_id, lead_id, token = journey.id, journey.lead_id, journey.access_token
    form = {"_token": journey_action_token(journey_id)}
    ids = {title: _step(journey_id, title).id for title in ("The contract", "Your ID", "About you")}
    video_id = _step(journey_id, "Intro").id
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        base = f"{server.url}/j/{token}/steps"
        signed = _parallel(
            lambda i: _post(
                f"{base}/{ids['The contract']}/sign",
                {
                    **form,
                    "name": f"Ada Lovelace {i}",
                    "consent": "on",
                    "text_sha256": text_hash(TERMS),
                },
            )
        )
        uploaded = _parallel(
            lambda i: _post(
                f"{base}/{ids['Your ID']}/upload",
                form,
                files={"file": (f"id{i}.png", PNG, "image/png")},
            )
        )
        answered = _parallel(
            lambda i: _post(f"{base}/{ids['About you']}", {**form, "data.company": f"Firm {i}"})
        )
        watched = _parallel(lambda i: _post(f"{base}/{video_id}/watched", form))

    db.session.rollback()
    db.session.expire_all()
    problems = {
        "sign": _statuses(signed),
        "upload": _statuses(uploaded),
        "data": _statuses(answered),
        "video": _statuses(watched),
    }
    assert all(max(counts) < 500 for counts in problems.values()), problems
    signatures = db.session.scalars(db.select(Signature).filter_by(journey_id=journey_id)).all()
    sign_step = _step(journey_id, "The contract")
    assert [s.id for s in signatures] == [sign_step.result["signature_id"]], problems
    assert problems["sign"][303] == 1, problems
    files = db.session.scalars(db.select(JourneyFile).filter_by(journey_id=journey_id)).all()
    assert len(files) == 2 and problems["upload"][303] == 2, problems
    data_step = _step(journey_id, "About you")
    stored = db.session.scalar(db.select(JourneyData.value).filter_by(journey_id=journey_id))
    assert data_step.result["data"]["company"] == stored, (stored, data_step.result)
    assert problems["data"][303] == 1, problems
    for title in ("The contract", "Your ID", "About you", "Intro"):
        step = _step(journey_id, title)
        assert step.status == StepStatus.DONE and _completions(step.id) == 1, title
    assert _events(lead_id)["journey.completed"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_confirm_unsubscribe_and_a_stakeholder_s_answer_sent_at_once_count_once(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    funnel = stakeholder_funnel(ws, email_data_point="accountant_email")
    funnel.double_opt_in = True
    db.session.commit()
    journey = stakeholder_registered(funnel, accountant_email="books@ledger.example")
    lead = db.session.get(Lead, journey.lead_id)
    confirm = confirm_token(lead.id, journey.id)
    unsubscribe = unsubscribe_token(lead)
    journey_id, lead_id = journey.id, lead.id
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        confirmed = _parallel(lambda i: _post(f"{server.url}/confirm/{confirm}", {}))
        db.session.rollback()
        link = emailed_token("books@ledger.example")
        step_id = stakeholder_task(journey).id
        db.session.commit()
        answers = _parallel(
            lambda i: _post(
                f"{server.url}/s/{link}",
                {"step": step_id, "decision": "approve" if i % 2 else "reject", "comment": f"c{i}"},
            )
        )
        unsubscribed = _parallel(lambda i: _post(f"{server.url}/unsubscribe/{unsubscribe}", {}))

    db.session.rollback()
    db.session.expire_all()
    problems = {
        "confirm": _statuses(confirmed),
        "stakeholder": _statuses(answers),
        "unsubscribe": _statuses(unsubscribed),
    }
    assert all(max(counts) < 500 for counts in problems.values()), problems
    events = _events(lead_id)
    assert events["lead.confirmed"] == 1 and events["lead.opted_out"] == 1, events
    assert problems["stakeholder"] == Counter({303: 1, 410: PARALLEL - 1}), problems
    assert _completions(step_id) == 1
    assert db.session.get(Journey, journey_id).status is not None


def _signed_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30)
    token = CSRF_INPUT.search(page.text).group(1)
    data = {"email": email, "password": factories.PASSWORD, "csrf_token": token}
    answer = session.post(f"{base}/login", data=data, allow_redirects=False, timeout=30)
    assert answer.status_code in (302, 303), answer.text[:500]
    return session


@pytest.mark.parametrize("kind", KINDS)
def test_staff_moving_one_lead_and_marking_one_task_done_at_once(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    users = [factories.user(ws, email=f"staff{n}@example.com") for n in range(2)]
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Call"), ActivityKind.STAFF_TASK, "Call")
    origin = factories.origin(funnel)
    registration = register(origin, LeadInput(email="ada@example.com"), RegistrationContext())
    lead_id = registration.lead.id
    call_id = _step(registration.journey.id, "Call").id
    emails = [user.email for user in users]
    db.session.commit()
    statuses = ["new", "contacted", "qualified", "customer", "lost"]
    with serve(app, kind, tmp_path) as server:
        sessions = [_signed_in(server.url, email) for email in emails]
        csrf = [
            CSRF_INPUT.search(s.get(f"{server.url}/p/leads", timeout=30).text).group(1)
            for s in sessions
        ]

        def staff(i: int, path: str, data: dict[str, Any]) -> requests.Response:
            session = sessions[i % len(sessions)]
            return session.post(
                f"{server.url}{path}",
                data={"csrf_token": csrf[i % len(sessions)], **data},
                allow_redirects=False,
                timeout=60,
            )

        moved = _parallel(
            lambda i: staff(i, f"/p/leads/{lead_id}/status", {"status": statuses[i % 5]})
        )
        bulk = _parallel(
            lambda i: staff(
                i, "/p/leads/bulk", {"lead": [lead_id], "action": "tag", "value": f"t{i}"}
            )
        )
        done = _parallel(lambda i: staff(i, f"/p/tasks/{call_id}/done", {}))

    db.session.rollback()
    db.session.expire_all()
    problems = {"move": _statuses(moved), "bulk": _statuses(bulk), "done": _statuses(done)}
    assert all(max(counts) < 500 for counts in problems.values()), problems
    lead = db.session.get(Lead, lead_id)
    assert sorted(lead.tags) == sorted(f"t{i}" for i in range(PARALLEL)), lead.tags
    assert _completions(call_id) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_lead_erased_while_staff_edit_it_stays_erased(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    email = factories.user(ws).email
    lead_id = factories.lead(ws, email="ada@example.com", first_name="Ada").id
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        session = _signed_in(server.url, email)
        csrf = CSRF_INPUT.search(session.get(f"{server.url}/p/leads", timeout=30).text).group(1)

        def erase_or_edit(i: int) -> requests.Response:
            path, data = f"/p/leads/{lead_id}/contact/edit", {"first_name": f"Name{i}"}
            if i % 4 == 0:
                path, data = f"/p/leads/{lead_id}/erase", {}
            elif i % 4 == 1:
                path, data = "/p/leads/bulk", {"lead": [lead_id], "action": "tag", "value": f"t{i}"}
            elif i % 4 == 2:
                path, data = f"/p/leads/{lead_id}/status", {"status": "contacted"}
            return session.post(
                f"{server.url}{path}",
                data={"csrf_token": csrf, **data},
                allow_redirects=False,
                timeout=60,
            )

        answers = _parallel(erase_or_edit)

    db.session.rollback()
    db.session.expire_all()
    assert max(_statuses(answers)) < 500, _statuses(answers)
    lead = db.session.get(Lead, lead_id)
    kept = {"first_name": lead.first_name, "tags": lead.tags, "status": lead.status}
    assert kept == {"first_name": None, "tags": [], "status": "erased"}, kept
    assert _events(lead_id)["lead.erased"] == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_held_lead_accepted_by_staff_at_once_registers_once(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    email = factories.user(ws).email
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.PAGE)
    held = hold(origin, LeadInput(email="ada@example.com"), RegistrationContext(), "too fast")
    held_id = held.id
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        session = _signed_in(server.url, email)
        csrf = CSRF_INPUT.search(session.get(f"{server.url}/p/leads", timeout=30).text).group(1)
        accepted = _parallel(
            lambda i: session.post(
                f"{server.url}/p/leads/{held_id}/accept",
                data={"csrf_token": csrf},
                allow_redirects=False,
                timeout=60,
            )
        )

    db.session.rollback()
    db.session.expire_all()
    statuses = _statuses(accepted)
    assert max(statuses) < 500, statuses
    journeys = db.session.scalars(db.select(Journey).filter_by(lead_id=held_id)).all()
    assert len(journeys) == 1 and _events(held_id)["lead.created"] == 1, _events(held_id)
    assert db.session.get(Lead, held_id).counter == 1
