"""Staff acting on one lead at once through a real server, PARALLEL requests each: moving it
on the board, tagging it in bulk and marking its task done; erasing it while others edit,
tag and move it; accepting a held lead from several tabs. Expected: no 5xx and no traceback
in the server's log; every tag kept, one completion; an erased lead stays erased (nothing
written back, one `lead.erased`); a held lead registers once (one `lead.created`).

On PostgreSQL, before the fixes: edits that waited for the erasure's lock wrote the first
name, status and tags back onto the anonymous row; 12 accepts of a held lead wrote up to 12
`lead.created` events (and webhooks) for its one journey.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from leadsite.extensions import db
from leadsite.models import ActivityKind, Journey, Lead, OriginKind
from leadsite.registration import LeadInput, RegistrationContext, register
from leadsite.registration.held import hold
from tests import factories
from tests.concurrency.conftest import serve
from tests.concurrency.parallel import (
    PARALLEL,
    SERVERS,
    completions,
    csrf,
    events,
    journey_step,
    parallel,
    post,
    signed_in,
    statuses,
)


@pytest.mark.parametrize("kind", SERVERS)
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
    call_id = journey_step(registration.journey.id, "Call").id
    emails = [user.email for user in users]
    db.session.commit()
    keys = ["new", "contacted", "qualified", "customer", "lost"]
    with serve(app, kind, tmp_path) as server:
        sessions = [signed_in(server.url, email) for email in emails]
        tokens = [csrf(session, f"{server.url}/p/leads") for session in sessions]

        def staff(i: int, path: str, data: dict[str, Any]) -> requests.Response:
            form = {"csrf_token": tokens[i % 2], **data}
            return post(f"{server.url}{path}", form, sessions[i % 2])

        moved = parallel(
            lambda i: staff(i, f"/p/leads/{lead_id}/status", {"status": keys[i % len(keys)]})
        )
        bulk = parallel(
            lambda i: staff(
                i, "/p/leads/bulk", {"lead": [lead_id], "action": "tag", "value": f"t{i}"}
            )
        )
        done = parallel(lambda i: staff(i, f"/p/tasks/{call_id}/done", {}))

    db.session.rollback()
    db.session.expire_all()
    problems = {"move": statuses(moved), "bulk": statuses(bulk), "done": statuses(done)}
    assert all(max(counts) < 500 for counts in problems.values()), problems
    lead = db.session.get(Lead, lead_id)
    assert sorted(lead.tags) == sorted(f"t{i}" for i in range(PARALLEL)), lead.tags
    assert completions(call_id) == 1


@pytest.mark.parametrize("kind", SERVERS)
def test_a_lead_erased_while_staff_edit_it_stays_erased(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    email = factories.user(ws).email
    lead_id = factories.lead(ws, email="ada@example.com", first_name="Ada").id
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        session = signed_in(server.url, email)
        token = csrf(session, f"{server.url}/p/leads")

        def erase_or_edit(i: int) -> requests.Response:
            path, data = f"/p/leads/{lead_id}/contact/edit", {"first_name": f"Name{i}"}
            if i % 4 == 0:
                path, data = f"/p/leads/{lead_id}/erase", {}
            elif i % 4 == 1:
                path, data = "/p/leads/bulk", {"lead": [lead_id], "action": "tag", "value": f"t{i}"}
            elif i % 4 == 2:
                path, data = f"/p/leads/{lead_id}/status", {"status": "contacted"}
            return post(f"{server.url}{path}", {"csrf_token": token, **data}, session)

        answers = parallel(erase_or_edit)

    db.session.rollback()
    db.session.expire_all()
    assert max(statuses(answers)) < 500, statuses(answers)
    lead = db.session.get(Lead, lead_id)
    kept = {"first_name": lead.first_name, "tags": lead.tags, "status": lead.status}
    assert kept == {"first_name": None, "tags": [], "status": "erased"}, kept
    assert events(lead_id)["lead.erased"] == 1


@pytest.mark.parametrize("kind", SERVERS)
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
        session = signed_in(server.url, email)
        form = {"csrf_token": csrf(session, f"{server.url}/p/leads")}
        accepted = parallel(lambda i: post(f"{server.url}/p/leads/{held_id}/accept", form, session))

    db.session.rollback()
    db.session.expire_all()
    answered = statuses(accepted)
    assert max(answered) < 500, answered
    journeys = db.session.scalars(db.select(Journey).filter_by(lead_id=held_id)).all()
    assert len(journeys) == 1 and events(held_id)["lead.created"] == 1, events(held_id)
    assert db.session.get(Lead, held_id).counter == 1
