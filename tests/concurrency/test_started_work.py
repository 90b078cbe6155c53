"""Work a member started that goes on without them, through a real server, while an
administrator takes their access away: a CSV import the worker runs chunk by chunk, a CSV
export streamed to them, and the activity editor's changes, which check the membership before
their slow part (a staff template tried) and write after it.

Expected: the import stops, cancelled, at the first chunk to commit after the deactivation,
with the rows committed before kept, none after, and its page saying why; the export ends
early, its last line saying why, and fails as a transfer (the connection closes before the
chunked body's end: gunicorn's sync and gthread workers), logged once, as a warning; the
editor's changes refused, 403, and nothing of them written. No 5xx, no traceback in the
server's log.

Before the fixes, as seen: the import ran to its end (finished, 5,000 of 5,000 rows, 500 when
the deactivation committed) on both databases; the export sent every lead; then, stopped
early, it ended as a whole file would (`IncompleteRead` not raised). On SQLite the
activity editor's changes, held up behind the write lock the deactivation took after they had
checked the membership, were made (302, 302, and the test email queued: 200). On PostgreSQL the
same sequence was refused already: their first check waits for the deactivation's row lock.
Their window there (their first check's transaction ends before the template is tried; a
deactivation committed meanwhile went unseen) is closed by the same recheck, but this test does
not reach it.
"""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import insert, select, text, update

from leadsite.database import begin_write_transaction
from leadsite.extensions import db
from leadsite.leads.imports.upload import CHUNK_ROWS
from leadsite.models import (
    Activity,
    ActivityKind,
    ImportStatus,
    Lead,
    LeadImport,
    Membership,
    OutboxMessage,
)
from tests import factories
from tests.concurrency.conftest import serve
from tests.concurrency.parallel import csrf, parallel, post, signed_in
from tests.concurrency.test_turns import _waiting_for_a_lock
from tests.concurrency.world import ada_and_bea
from tests.servers import eventually

CHUNKS = 10
ROWS = CHUNKS * CHUNK_ROWS
# Leads exported (about 8 MB), read by a client whose receive buffer is small (`_download`):
# the kernel's buffers hold at most the server's send buffer (4 MB at most here,
# net.ipv4.tcp_wmem) and the client's 32 KB, so the server is still writing rows, blocked,
# when the deactivation lands, however fast the machine. At 30,000 (3 MB) a loaded run once
# sent the whole export into the buffers before the deactivation committed.
EXPORTED = 80_000
RECEIVE_BUFFER_BYTES = 32 * 1024
# Long enough for the editor's requests to pass their membership check and reach the write
# lock they wait for (they have 15 s of SQLite's busy timeout), even at a load of 12.
REACH_THE_LOCK_S = 3.0


def _import(job_id: str) -> LeadImport:
    db.session.rollback()  # a fresh snapshot: the server's worker writes
    return db.session.get(LeadImport, job_id, populate_existing=True)


def _leads() -> int:
    db.session.rollback()
    return db.session.scalar(select(db.func.count(Lead.id)))


def test_an_import_stops_at_the_next_chunk_once_its_starter_is_deactivated(
    app: Flask, tmp_path: Path
) -> None:
    ws, ada, bea, bea_membership = ada_and_bea()
    funnel_id = factories.funnel(ws).id
    db.session.commit()
    rows = "".join(f"p{k}@example.com,Person,{k}\n" for k in range(ROWS))
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        bea_session, ada_session = (signed_in(server.url, e) for e in (bea.email, ada.email))
        token = csrf(bea_session, f"{server.url}/p/leads/import")
        uploaded = bea_session.post(
            f"{server.url}/p/leads/import",
            data={"csrf_token": token},
            files={"file": ("people.csv", "email,first_name,last_name\n" + rows)},
            allow_redirects=False,
            timeout=60,
        )
        job_id = uploaded.headers["Location"].rsplit("/", 1)[-1]
        mapping = {f"column-{i}": c for i, c in enumerate(("email", "first_name", "last_name"))}
        started = post(
            f"{server.url}/p/leads/import/{job_id}/run",
            {"csrf_token": token, "funnel": funnel_id, **mapping},
            bea_session,
        )
        assert started.status_code == 303, started.text[:500]
        assert eventually(lambda: _import(job_id).next_row >= CHUNK_ROWS, timeout=120)

        admin_token = csrf(ada_session, f"{server.url}/p/settings/users")
        deactivated = post(
            f"{server.url}/p/settings/users/{bea_membership}/deactivate",
            {"csrf_token": admin_token},
            ada_session,
        )
        # The deactivation has committed: whatever the import has now, it keeps, and no more.
        leads_then = _leads()
        assert eventually(lambda: _import(job_id).ended, timeout=120)
        report = ada_session.get(f"{server.url}/p/leads/import/{job_id}/report", timeout=30)

    assert deactivated.status_code in (302, 303), deactivated.text[:500]
    job = _import(job_id)
    assert job.status == ImportStatus.CANCELLED, (job.status, job.rows_done, leads_then)
    assert CHUNK_ROWS <= job.rows_done < ROWS, job.rows_done
    assert _leads() == leads_then == job.created_count == job.rows_done
    page = report.text
    assert report.status_code == 200 and "Cancelled" in page, page[:1000]
    assert f"after {job.rows_done:,} of {ROWS:,} rows" in page
    assert "bea@example.com, who started this import, no longer has access to Acme" in page


@pytest.mark.parametrize("kind", ["gunicorn-sync", "gunicorn-gthread"])
def test_an_export_under_way_fails_as_a_transfer_once_the_member_is_deactivated(
    app: Flask, tmp_path: Path, kind: str
) -> None:
    ws, ada, bea, bea_membership = ada_and_bea()
    _leads_to_export(ws.id)
    with serve(app, kind, tmp_path) as server:
        bea_session, ada_session = (signed_in(server.url, e) for e in (bea.email, ada.email))
        admin_token = csrf(ada_session, f"{server.url}/p/settings/users")
        with _download(server.url, "/p/leads/export", bea_session) as download:
            first = download.read(64 * 1024)
            deactivated = post(
                f"{server.url}/p/settings/users/{bea_membership}/deactivate",
                {"csrf_token": admin_token},
                ada_session,
            )
            with pytest.raises(http.client.IncompleteRead) as cut:
                download.read()  # the connection closes before the body's terminating chunk

    assert download.status == 200
    assert deactivated.status_code in (302, 303), deactivated.text[:500]
    lines = (first + cut.value.partial).decode("utf-8-sig").splitlines()
    assert lines[-1] == '"The export stopped here: you no longer have access to Acme."', lines[-1]
    assert len(lines) - 2 < EXPORTED, len(lines)  # the header, the rows sent, the last line
    logged = (tmp_path / f"{kind}.log").read_text()
    assert logged.count("download cut short") == 1, logged[-3000:]  # no traceback (`serve`)


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
    reason="a connection killed under the export: PostgreSQL's pg_terminate_backend",
)
def test_an_export_under_way_fails_as_a_transfer_when_its_database_connection_dies(
    app: Flask, tmp_path: Path
) -> None:
    ws, _, bea, _ = ada_and_bea()
    _leads_to_export(ws.id)
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        bea_session = signed_in(server.url, bea.email)
        with _download(server.url, "/p/leads/export", bea_session) as download:
            first = download.read(64 * 1024)
            # The export's connection, reading a batch of rows or between two (what a restart
            # of PostgreSQL, or a proxy in front of it, does to it).
            assert eventually(_export_connection_killed, timeout=30)
            with pytest.raises(http.client.IncompleteRead) as cut:
                download.read()

    lines = (first + cut.value.partial).decode("utf-8-sig").splitlines()
    said = "the service is briefly unavailable; download it again in a few seconds"
    assert lines[-1] == f'"The export stopped here: {said}."', lines[-1]
    assert len(lines) - 2 < EXPORTED, len(lines)
    logged = (tmp_path / "gunicorn-gthread.log").read_text()
    assert logged.count("download cut short") == 1, logged[-3000:]  # no traceback (`serve`)


def _leads_to_export(workspace_id: str) -> None:
    db.session.execute(
        insert(Lead),
        [
            {"id": f"lead_{n:06}", "workspace_id": workspace_id, "email": f"p{n}@example.com"}
            for n in range(EXPORTED)
        ],
    )
    db.session.commit()


def _export_connection_killed() -> bool:
    killed = db.session.scalars(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state IN ('active', 'idle in transaction') AND query LIKE '%FROM leads%'"
        )
    ).all()
    db.session.commit()
    return killed == [True]


@contextmanager
def _download(
    base: str, path: str, session: requests.Session
) -> Iterator[http.client.HTTPResponse]:
    """A GET of `path` as this browser session, its body left to read (http.client tells a
    body cut short from a whole one: `IncompleteRead`)."""
    host, port = base.removeprefix("http://").split(":")
    connection = _SmallWindowConnection(host, int(port), timeout=60)
    cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)
    try:
        connection.request("GET", path, headers={"Cookie": cookies})
        yield connection.getresponse()
    finally:
        connection.close()


def test_activity_changes_that_checked_the_membership_before_a_deactivation_are_refused(
    app: Flask, tmp_path: Path
) -> None:
    ws, _, bea, bea_membership = ada_and_bea()
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    email = factories.activity(stage, ActivityKind.EMAIL_LEAD, "Welcome email")
    base = f"/p/funnels/edit/{funnel.id}"
    template = {"activity-subject": "Hello {{ lead.first_name }}", "activity-body": "Welcome"}
    changes = [
        (f"{base}/stages/{stage.id}/activities/new", {"kind": ActivityKind.EMAIL_LEAD.value}),
        (f"{base}/activities/{email.id}", {}),
        (f"{base}/stages/{stage.id}/email-test", {"preview_kind": ActivityKind.EMAIL_LEAD.value}),
    ]
    postgres = db.engine.dialect.name == "postgresql"
    db.session.commit()
    with serve(app, "gunicorn-gthread", tmp_path) as server:
        session = signed_in(server.url, bea.email)
        token = csrf(session, f"{server.url}{base}/activities/{email.id}")

        def send(i: int) -> requests.Response:
            path, extra = changes[i]
            form = {"csrf_token": token, "activity-title": "Changed", **template, **extra}
            return post(f"{server.url}{path}", form, session)

        # The deactivation is written, not committed, as Bea's changes arrive: they read her
        # membership (still active), try their templates, then wait for the write lock
        # (SQLite) or the membership's row (PostgreSQL) until it commits.
        begin_write_transaction()
        db.session.execute(update(Membership).filter_by(id=bea_membership).values(active=False))
        with ThreadPoolExecutor(1) as pool:
            sent = pool.submit(parallel, send, len(changes))
            if postgres:
                eventually(lambda: _waiting_for_a_lock() >= len(changes), timeout=20)
            else:
                time.sleep(REACH_THE_LOCK_S)
            db.session.commit()
            answers = sent.result()

    told = [(a.status_code, "no longer have access to Acme" in a.text) for a in answers]
    assert told == [(403, True)] * len(changes), [(a.status_code, a.text[:300]) for a in answers]
    db.session.rollback()
    titles = sorted(db.session.scalars(select(Activity.title)))
    assert titles == ["Welcome email"], titles
    assert db.session.scalar(select(db.func.count(OutboxMessage.id))) == 0


class _SmallWindowConnection(http.client.HTTPConnection):
    """A connection whose socket's receive buffer is set before it connects (so that TCP
    offers a small window, and the kernel does not grow it), as a client that reads slowly."""

    def connect(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        sock.settimeout(self.timeout)
        sock.connect((self.host, self.port))
        self.sock = sock
