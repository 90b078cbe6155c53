"""Staff editing a lead while it registers: the edit waits for the registration's lock on the
lead, then works from the lead as the registration left it (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import text

from leadsite.extensions import db
from leadsite.models import Lead
from tests import factories
from tests.conftest import csrf_token

TIMEOUT = 10


def _waiting_for_a_lock() -> bool:
    with db.engine.connect() as connection:
        return bool(connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def test_a_bulk_tag_during_a_registration_keeps_the_tags_the_registration_added(
    app: Flask, client, auth
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL")
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    lead_id = factories.lead(ws, tags=["a"]).id
    form = {"csrf_token": csrf_token(client, "/p/leads"), "lead": [lead_id]}
    answers: list[int] = []

    def tag_in_bulk() -> None:
        response = client.post(
            "/p/leads/bulk",
            data={**form, "action": "tag", "value": "vip"},
            headers={"HX-Request": "true"},
        )
        answers.append(response.status_code)

    with db.engine.connect() as registration:
        registration.execute(  # the pipeline's match locks the lead...
            db.select(Lead.id).filter_by(id=lead_id).with_for_update(key_share=True)
        )
        staff = threading.Thread(target=tag_in_bulk)
        staff.start()
        deadline = time.monotonic() + TIMEOUT
        while not _waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        # ... then merges the registration's tags into it and commits.
        registration.execute(db.update(Lead).filter_by(id=lead_id).values(tags=["a", "b"]))
        registration.commit()
    staff.join(TIMEOUT)

    assert answers == [200]
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).tags == ["a", "b", "vip"]
