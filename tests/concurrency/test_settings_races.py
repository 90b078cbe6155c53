"""Workspace settings sent twice at once through a real server: the same status added by
double clicks, two administrators demoting each other, and one invitation link accepted from
several tabs. Expected: no 5xx and no traceback in the server's log; one status, one
administrator left at least, one account.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from flask import Flask

from leadsite.access.invitations import VALID_FOR, _hash
from leadsite.extensions import db
from leadsite.models import Invitation, LeadStatus, Membership, Role, User, utcnow
from tests import factories
from tests.concurrency.conftest import serve
from tests.concurrency.parallel import SERVERS, csrf, parallel, signed_in, statuses

TOKEN = "invitation-token-for-the-race-test"


@pytest.mark.parametrize("kind", SERVERS)
def test_settings_sent_twice_at_once_keep_the_workspace_whole(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    ws = factories.workspace("Acme")
    admins = [factories.user(ws, email=f"admin{n}@example.com") for n in range(2)]
    memberships = {m.user_id: m.id for m in db.session.scalars(db.select(Membership))}
    db.session.add(
        Invitation(
            workspace_id=ws.id,
            email="new@example.com",
            role=Role.MANAGER.value,
            token_hash=_hash(TOKEN),
            expires_at=utcnow() + VALID_FOR,
        )
    )
    ws_id = ws.id
    pairs = [(a.email, memberships[b.id]) for a, b in (admins, admins[::-1])]
    db.session.commit()
    with serve(app, kind, tmp_path) as server:
        sessions = [signed_in(server.url, email) for email, _ in pairs]
        tokens = [csrf(s, f"{server.url}/p/settings/statuses") for s in sessions]
        added = parallel(
            lambda i: sessions[i % 2].post(
                f"{server.url}/p/settings/statuses",
                data={"csrf_token": tokens[i % 2], "name": "Call back", "colour": "#123456"},
                allow_redirects=False,
                timeout=60,
            )
        )
        demoted = parallel(
            lambda i: sessions[i].post(
                f"{server.url}/p/settings/users/{pairs[i][1]}/role",
                data={"csrf_token": tokens[i], "role": Role.MANAGER.value},
                allow_redirects=False,
                timeout=60,
            ),
            count=2,
        )
        tabs = [requests.Session() for _ in range(4)]
        invitation = f"{server.url}/invitations/{TOKEN}"
        forms = [csrf(tab, invitation) for tab in tabs]
        accepted = parallel(
            lambda i: tabs[i].post(
                invitation,
                data={
                    "csrf_token": forms[i],
                    "password": f"a long password {i}",
                    "confirm_password": f"a long password {i}",
                },
                allow_redirects=False,
                timeout=60,
            ),
            count=len(tabs),
        )

    db.session.rollback()
    db.session.expire_all()
    problems = {"add": statuses(added), "demote": statuses(demoted), "join": statuses(accepted)}
    assert all(max(counts) < 500 for counts in problems.values()), problems
    keys = db.session.scalars(db.select(LeadStatus.key).filter_by(workspace_id=ws_id)).all()
    assert keys.count("call_back") == 1, keys
    roles = db.session.scalars(db.select(Membership.role).filter_by(workspace_id=ws_id)).all()
    assert Role.ADMINISTRATOR in roles, (roles, problems)
    users = db.session.scalars(db.select(User).filter_by(email="new@example.com")).all()
    assert len(users) == 1, problems
