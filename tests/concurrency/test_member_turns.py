"""More things staff do at once through a real server that must take turns: a manager's changes
sent while an administrator deactivates them, twelve invitations of one email as the emails
they send arrive by SMTP, and the CSV imports of a funnel that has no import origin yet.
Expected: no 5xx and no traceback in the server's log; the deactivated manager told, 403, that
they no longer have access, and nothing of theirs changed; one email, whose link works; one
import origin a funnel, every row imported once, every job finished.

On PostgreSQL, before the fixes: the manager's three changes, which waited for the lead that
the deactivation's transaction held, were answered as made (302, 303), not refused; the
twelve invitations sent twelve emails, and only the last one's link worked. On SQLite a
manager's change takes its turn for the write lock before it reads the membership, so the
manager was already signed out (as when deactivated before the request); the emails were
twelve there too. The imports took turns on both databases already.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import select, update

from leadsite.extensions import db
from leadsite.models import (
    Channel,
    ImportStatus,
    Journey,
    Lead,
    LeadImport,
    Membership,
    MessageStatus,
    Origin,
    OriginKind,
    OutboxMessage,
    Role,
)
from tests import factories
from tests.concurrency.conftest import serve
from tests.concurrency.parallel import PARALLEL, csrf, parallel, post, signed_in, statuses
from tests.concurrency.test_turns import _waiting_for_a_lock
from tests.concurrency.world import ada_and_bea
from tests.servers import eventually, smtp_server

LINK = re.compile(r"http://127\.0\.0\.1:\d+(/invitations/[A-Za-z0-9_-]+)")
# Funnels whose first imports are raced, two imports each, one funnel after another.
ROUNDS = 3
ROWS = 20


def test_a_manager_deactivated_while_their_changes_wait_is_refused(
    app: Flask, tmp_path: Path
) -> None:
    ws, _, bea, bea_membership = ada_and_bea()
    lead_id = factories.lead(ws, email="lee@example.com", first_name="Lee").id
    postgres = db.engine.dialect.name == "postgresql"
    db.session.commit()
    changes = [
        (f"/p/leads/{lead_id}/contact/edit", {"first_name": "Changed"}),
        (f"/p/leads/{lead_id}/status", {"status": "contacted"}),
        ("/p/leads/bulk", {"lead": [lead_id], "action": "tag", "value": "late"}),
    ]
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        session = signed_in(server.url, bea.email)
        token = csrf(session, f"{server.url}/p/leads")

        def send(i: int) -> requests.Response:
            path, data = changes[i]
            return post(f"{server.url}{path}", {"csrf_token": token, **data}, session)

        # Ada deactivates Bea while another change holds the lead that Bea's changes need:
        # they wait for it (on SQLite for the one write lock), then find Bea deactivated.
        # (The write first: on SQLite a transaction that read first may not write once the
        # server's worker wrote meanwhile.)
        db.session.execute(update(Membership).filter_by(id=bea_membership).values(active=False))
        db.session.execute(select(Lead.id).filter_by(id=lead_id).with_for_update())
        with ThreadPoolExecutor(1) as pool:
            sent = pool.submit(parallel, send, len(changes))
            if postgres:
                eventually(lambda: _waiting_for_a_lock() >= len(changes), timeout=10)
            db.session.commit()
            answers = sent.result()

    db.session.rollback()
    db.session.expire_all()
    told = [(a.status_code, _refusal(a)) for a in answers]
    # On SQLite the changes read the membership once the deactivation was in: signed out, as
    # any request of a member deactivated before it is.
    refused = (403, "no longer have access") if postgres else (302, "/login")
    assert told == [refused] * len(changes), [(a.status_code, a.text[:300]) for a in answers]
    lead = db.session.get(Lead, lead_id)
    assert (lead.first_name, lead.status, lead.tags or []) == ("Lee", "new", [])


def _refusal(answer: requests.Response) -> str:
    """Where a redirect goes (its path), or whether the page says the access is gone."""
    if "Location" in answer.headers:
        return answer.headers["Location"].split("?")[0]
    return "no longer have access" if "no longer have access to Acme" in answer.text else ""


def test_invitations_of_one_email_at_once_send_one_email_whose_link_works(
    app: Flask, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    emails = [factories.user(ws, email=f"{name}@example.com").email for name in ("ada", "bea")]
    ws_id = ws.id
    db.session.commit()
    with smtp_server() as (mailbox, port):
        env = {"MAIL_URL": f"smtp://127.0.0.1:{port}"}
        with serve(app, "gunicorn-gthread", tmp_path, env=env) as server:
            sessions = [signed_in(server.url, email) for email in emails]
            tokens = [csrf(session, f"{server.url}/p/settings/users") for session in sessions]
            invitation = {"email": "new@example.com", "role": Role.MANAGER.value}

            def invite(i: int) -> requests.Response:
                form = {"csrf_token": tokens[i % 2], **invitation}
                return post(f"{server.url}/p/settings/users", form, sessions[i % 2])

            invited = parallel(invite)
            assert eventually(lambda: _emails_on_their_way(ws_id) == 0, timeout=30)
            arrived = list(mailbox.wait_for(1))
            assert len(arrived) == 1, [m["To"] for m in arrived]
            text = arrived[0].get_body(("plain",)).get_content()
            page = requests.get(server.url + LINK.search(text).group(1), timeout=30)

    assert statuses(invited) == {302: PARALLEL}, statuses(invited)
    assert arrived[0]["To"] == "new@example.com"
    assert page.status_code == 200 and "Choose the password" in page.text, page.text[:500]


def _emails_on_their_way(workspace_id: str) -> int:
    db.session.rollback()  # a fresh snapshot: the server's worker writes
    return db.session.scalar(
        select(db.func.count(OutboxMessage.id)).filter_by(
            workspace_id=workspace_id, channel=Channel.EMAIL, status=MessageStatus.PENDING
        )
    )


def test_imports_of_a_funnel_without_an_import_origin_at_once_add_one(
    app: Flask, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    emails = [factories.user(ws, email=f"{name}@example.com").email for name in ("ada", "bea")]
    funnel_ids = [factories.funnel(ws, name=f"Funnel {n}").id for n in range(ROUNDS)]
    db.session.commit()
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        sessions = [signed_in(server.url, email) for email in emails]
        tokens = [csrf(session, f"{server.url}/p/leads/import") for session in sessions]

        def upload(n: int, i: int) -> requests.Response:
            start = (n * 2 + i) * ROWS
            rows = "".join(f"p{k}@example.com,Person,{k}\n" for k in range(start, start + ROWS))
            return sessions[i].post(
                f"{server.url}/p/leads/import",
                data={"csrf_token": tokens[i]},
                files={"file": ("people.csv", "email,first_name,last_name\n" + rows)},
                allow_redirects=False,
                timeout=60,
            )

        def run(n: int, i: int, job: str) -> requests.Response:
            form = {
                "csrf_token": tokens[i],
                "funnel": funnel_ids[n],
                "column-0": "email",
                "column-1": "first_name",
                "column-2": "last_name",
            }
            return post(f"{server.url}/p/leads/import/{job}/run", form, sessions[i])

        uploads, runs = [], []
        for n in range(ROUNDS):
            uploaded = parallel(lambda i, n=n: upload(n, i), 2)
            uploads.append(statuses(uploaded))
            jobs = [answer.headers.get("Location", "").rsplit("/", 1)[-1] for answer in uploaded]
            runs.append(statuses(parallel(lambda i, n=n, jobs=jobs: run(n, i, jobs[i]), 2)))
        assert eventually(lambda: _imports_ended() == 2 * ROUNDS, timeout=120)

    db.session.rollback()
    db.session.expire_all()
    assert uploads == [{303: 2}] * ROUNDS and runs == [{303: 2}] * ROUNDS, (uploads, runs)
    jobs = db.session.scalars(select(LeadImport)).all()
    assert [(job.status, job.created_count, job.rejected_count) for job in jobs] == [
        (ImportStatus.FINISHED, ROWS, 0)
    ] * len(jobs)
    origins = db.session.execute(
        select(Origin.funnel_id, Origin.id).filter_by(kind=OriginKind.IMPORT)
    ).all()
    assert sorted(funnel_id for funnel_id, _ in origins) == sorted(funnel_ids), origins
    journeys = db.session.execute(select(Journey.funnel_id, Journey.origin_id)).all()
    assert sorted({tuple(row) for row in journeys}) == sorted({tuple(row) for row in origins})
    assert len(journeys) == 2 * ROUNDS * ROWS
    counters = db.session.scalars(select(Lead.counter)).all()
    assert sorted(counters) == [1] * (2 * ROUNDS * ROWS)  # each row registered once


def _imports_ended() -> int:
    db.session.rollback()
    ended = (ImportStatus.FINISHED, ImportStatus.CANCELLED, ImportStatus.FAILED)
    return db.session.scalar(
        select(db.func.count(LeadImport.id)).where(LeadImport.status.in_(ended))
    )
