"""Two clicks on a confirmation link at the same moment confirm once: the second waits for the
first's lock on the lead, then finds it confirmed (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import text

from leadsite.extensions import db
from leadsite.models import Lead
from tests.public.test_confirm import confirm_link, registered

TIMEOUT = 10
FIRST_CLICK = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _waiting_for_a_lock() -> bool:
    with db.engine.connect() as connection:
        return bool(connection.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def test_a_click_while_another_confirms_finds_it_confirmed(app: Flask, client) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL")
    lead_id = registered().lead.id
    link = confirm_link()
    pages: list[str] = []

    def click() -> None:
        pages.append(client.post(link).get_data(as_text=True))

    with db.engine.connect() as first_click:
        first_click.execute(  # holds the lead, as the first click now does...
            text("SELECT id FROM leads WHERE id = :id FOR NO KEY UPDATE"), {"id": lead_id}
        )
        second = threading.Thread(target=click)
        second.start()
        deadline = time.monotonic() + TIMEOUT
        while not _waiting_for_a_lock() and time.monotonic() < deadline:
            time.sleep(0.01)
        # ... confirms, and commits.
        first_click.execute(db.update(Lead).filter_by(id=lead_id).values(confirmed_at=FIRST_CLICK))
        first_click.commit()
    second.join(TIMEOUT)

    assert len(pages) == 1 and "You had confirmed already" in pages[0]
    db.session.expire_all()
    assert db.session.get(Lead, lead_id).confirmed_at == FIRST_CLICK
