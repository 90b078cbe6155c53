"""Things staff do at once through a real server that must take turns: adding a funnel's
first leads by hand from two sessions (the first adds the funnel's back-office origin),
inviting one email from two sessions, and an administrator's changes sent while another
administrator demotes them. Expected: no 5xx and no traceback in the server's log; one
back-office origin a funnel; one invitation, whose link works; the demoted
administrator told, 403, that they are no longer one, and nothing of theirs changed.

One server for the three (its start and stop are most of the time this takes). On
PostgreSQL, before the fixes: 48 first leads in 4 funnels made 15 "Back-office" origins,
the funnels' leads split between them; 12 invitations of one email left 5 working links; the
demoted administrator was told "The workspace needs at least one active administrator"
(409) about their demotion of another, and their new status was added after the demotion.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import text, update

from leadsite.extensions import db
from leadsite.models import Invitation, Journey, LeadStatus, Membership, Origin, OriginKind, Role
from tests import factories
from tests.concurrency.conftest import serve
from tests.concurrency.parallel import PARALLEL, csrf, parallel, post, signed_in, statuses
from tests.servers import eventually

# Funnels whose first leads are raced, one after another: the race is won or lost in the
# milliseconds between looking for the origin and adding it, and one funnel may miss it.
ROUNDS = 4


def _waiting_for_a_lock() -> int:
    """Sessions of the test database waiting for a lock now (asked outside the test's own
    transaction: within one, PostgreSQL shows the activity as it was when it began)."""
    with db.engine.connect() as connection:
        return connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )


def test_first_origins_invitations_and_demotions_take_turns(app: Flask, tmp_path: Path) -> None:
    ws = factories.workspace("Acme")
    ada, bea = (factories.user(ws, email=f"{name}@example.com") for name in ("ada", "bea"))
    memberships = {m.user_id: m.id for m in db.session.scalars(db.select(Membership))}
    ada_membership, bea_membership = memberships[ada.id], memberships[bea.id]
    # No back-office origin yet: each funnel's first lead adds it.
    funnel_ids = [factories.staged_funnel(ws, name=f"Funnel {n}").id for n in range(ROUNDS)]
    emails, ws_id = [ada.email, bea.email], ws.id
    postgres = db.engine.dialect.name == "postgresql"
    db.session.commit()
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        sessions = [signed_in(server.url, email) for email in emails]
        tokens = [csrf(session, f"{server.url}/p/settings/users") for session in sessions]

        def send(i: int, path: str, data: dict[str, str]) -> requests.Response:
            form = {"csrf_token": tokens[i % 2], **data}
            return post(f"{server.url}{path}", form, sessions[i % 2])

        def first_leads(n: int) -> list[requests.Response]:
            lead = {"funnel": funnel_ids[n]}
            return parallel(lambda i: send(i, "/p/leads/new", {**lead, "email": f"{n}.{i}@x.io"}))

        added = [statuses(first_leads(n)) for n in range(ROUNDS)]
        invitation = {"email": "new@example.com", "role": Role.MANAGER.value}
        invited = parallel(lambda i: send(i, "/p/settings/users", invitation))

        # Bea demotes Ada, holding Ada's membership until Ada's two changes wait for it
        # (on SQLite they wait for its one write lock, where they cannot be seen).
        changes = [
            (f"/p/settings/users/{bea_membership}/role", {"role": Role.MANAGER.value}),
            ("/p/settings/statuses", {"name": "Call back", "colour": "#123456"}),
        ]
        db.session.execute(
            update(Membership).filter_by(id=ada_membership).values(role=Role.MANAGER.value)
        )
        with ThreadPoolExecutor(1) as pool:
            sent = pool.submit(parallel, lambda i: send(0, *changes[i]), len(changes))
            if postgres:
                eventually(lambda: _waiting_for_a_lock() >= len(changes), timeout=10)
            db.session.commit()
            demoted = sent.result()

    db.session.rollback()
    db.session.expire_all()
    assert added == [{302: PARALLEL}] * ROUNDS, added
    origins = db.session.execute(
        db.select(Origin.funnel_id, Origin.id).filter_by(kind=OriginKind.BACKOFFICE)
    ).all()
    assert sorted(funnel_id for funnel_id, _ in origins) == sorted(funnel_ids), origins
    journeys = db.session.execute(db.select(Journey.funnel_id, Journey.origin_id)).all()
    assert {tuple(row) for row in journeys} == {tuple(row) for row in origins}

    assert statuses(invited) == {302: PARALLEL}, statuses(invited)
    sent_links = db.session.scalars(db.select(Invitation).filter_by(workspace_id=ws_id)).all()
    # The first is made; the others, repeats of it, find it and leave it be
    # (test_member_turns: its one email arrives, and its link works).
    assert [link.pending for link in sent_links] == [True], sent_links

    told = [(a.status_code, "no longer an administrator of Acme" in a.text) for a in demoted]
    assert told == [(403, True)] * len(changes), [(a.status_code, a.text) for a in demoted]
    roles = dict(db.session.execute(db.select(Membership.id, Membership.role)).all())
    assert roles == {ada_membership: Role.MANAGER, bea_membership: Role.ADMINISTRATOR}
    keys = db.session.scalars(db.select(LeadStatus.key).filter_by(workspace_id=ws_id)).all()
    assert "call_back" not in keys, keys
