"""A lead's and a stakeholder's write paths other than registering, each sent PARALLEL times at
once through a real server: the sign, upload, data task and video steps of the lead's page; a
double opt-in confirmation and an unsubscribe; a stakeholder's answer. Expected: no 5xx and no
traceback in the server's log; each action done once (one signature, one completion, one
event), the other requests told it is done already (409, 410) or thanked again.

On PostgreSQL, before the fixes: 12 signs at once stored 4 signatures, each answered 303; 12
data answers each overwrote the journey data (the step's record kept the first's); 12
unsubscribe clicks wrote 5 `lead.opted_out` events (and their webhooks).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.journeys.emails import unsubscribe_token
from leadsite.journeys.lead_activity_config import text_hash
from leadsite.models import (
    ActivityKind,
    Journey,
    JourneyData,
    JourneyFile,
    Lead,
    OriginKind,
    Signature,
    StepStatus,
)
from leadsite.public.tokens import confirm_token, journey_action_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.concurrency.conftest import serve
from tests.concurrency.parallel import (
    PARALLEL,
    SERVERS,
    completions,
    events,
    journey_step,
    parallel,
    post,
    statuses,
)
from tests.journeys.stakeholder_world import emailed_token, stakeholder_funnel
from tests.journeys.stakeholder_world import registered as stakeholder_registered
from tests.journeys.stakeholder_world import task as stakeholder_task
from tests.public.lead_steps import TERMS

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


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


@pytest.mark.parametrize("kind", SERVERS)
def test_a_lead_s_step_actions_sent_at_once_are_done_once(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    journey = _lead_steps_world()
    journey_id, lead_id, token = journey.id, journey.lead_id, journey.access_token
    form = {"_token": journey_action_token(journey_id)}
    ids = {
        title: journey_step(journey_id, title).id
        for title in ("The contract", "Your ID", "About you")
    }
    video_id = journey_step(journey_id, "Intro").id
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        base = f"{server.url}/j/{token}/steps"
        signed = parallel(
            lambda i: post(
                f"{base}/{ids['The contract']}/sign",
                {
                    **form,
                    "name": f"Ada Lovelace {i}",
                    "consent": "on",
                    "text_sha256": text_hash(TERMS),
                },
            )
        )
        uploaded = parallel(
            lambda i: post(
                f"{base}/{ids['Your ID']}/upload",
                form,
                files={"file": (f"id{i}.png", PNG, "image/png")},
            )
        )
        answered = parallel(
            lambda i: post(f"{base}/{ids['About you']}", {**form, "data.company": f"Firm {i}"})
        )
        watched = parallel(lambda i: post(f"{base}/{video_id}/watched", form))

    db.session.rollback()
    db.session.expire_all()
    problems = {
        "sign": statuses(signed),
        "upload": statuses(uploaded),
        "data": statuses(answered),
        "video": statuses(watched),
    }
    assert all(max(counts) < 500 for counts in problems.values()), problems
    signatures = db.session.scalars(db.select(Signature).filter_by(journey_id=journey_id)).all()
    sign_step = journey_step(journey_id, "The contract")
    assert [s.id for s in signatures] == [sign_step.result["signature_id"]], problems
    assert problems["sign"][303] == 1, problems
    files = db.session.scalars(db.select(JourneyFile).filter_by(journey_id=journey_id)).all()
    assert len(files) == 2 and problems["upload"][303] == 2, problems
    data_step = journey_step(journey_id, "About you")
    stored = db.session.scalar(db.select(JourneyData.value).filter_by(journey_id=journey_id))
    assert data_step.result["data"]["company"] == stored, (stored, data_step.result)
    assert problems["data"][303] == 1, problems
    for title in ("The contract", "Your ID", "About you", "Intro"):
        found = journey_step(journey_id, title)
        assert found.status == StepStatus.DONE and completions(found.id) == 1, title
    assert events(lead_id)["journey.completed"] == 1


@pytest.mark.parametrize("kind", SERVERS)
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
    lead_id = lead.id
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        confirmed = parallel(lambda i: post(f"{server.url}/confirm/{confirm}", {}))
        db.session.rollback()
        link = emailed_token("books@ledger.example")
        step_id = stakeholder_task(journey).id
        db.session.commit()
        answers = parallel(
            lambda i: post(
                f"{server.url}/s/{link}",
                {"step": step_id, "decision": "approve" if i % 2 else "reject", "comment": f"c{i}"},
            )
        )
        unsubscribed = parallel(lambda i: post(f"{server.url}/unsubscribe/{unsubscribe}", {}))

    db.session.rollback()
    db.session.expire_all()
    problems = {
        "confirm": statuses(confirmed),
        "stakeholder": statuses(answers),
        "unsubscribe": statuses(unsubscribed),
    }
    assert all(max(counts) < 500 for counts in problems.values()), problems
    written = events(lead_id)
    assert written["lead.confirmed"] == 1 and written["lead.opted_out"] == 1, written
    assert problems["stakeholder"] == {303: 1, 410: PARALLEL - 1}, problems
    assert completions(step_id) == 1
