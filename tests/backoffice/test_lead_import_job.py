"""CSV import, the job: a worker killed mid-import, a cancel, a lease taken over, the shell."""

from __future__ import annotations

import csv
import gc
import io
import signal
from datetime import timedelta

import pytest
from sqlalchemy import update

from leadsite.extensions import db
from leadsite.leads.imports import job as lead_import_job
from leadsite.leads.imports import upload as lead_import
from leadsite.leads.imports.rows import rejected_csv
from leadsite.models import ImportStatus, Lead, LeadImport, OriginKind, Role, utcnow
from leadsite.outbox import worker
from tests import factories
from tests.backoffice.test_lead_import import HTMX, _post, _sign_in
from tests.outbox.test_worker_processes import worker_process
from tests.servers import eventually
from tests.statements import captured_statements


def _people(count: int, start: int = 0) -> bytes:
    rows = "".join(f"p{n}@example.com,Person,{n}\n" for n in range(start, start + count))
    return ("email,first_name,last_name\n" + rows).encode()


def _queued(ws, funnel, data: bytes, user_id: str | None = None) -> LeadImport:
    """An import of `data` into `funnel`, mapped and queued, started by a new manager (or by
    `user_id`): it runs while they have access."""
    user_id = user_id or factories.user(ws, role=Role.MANAGER).id
    job = lead_import.save_upload(ws.id, user_id, "people.csv", data)
    lead_import.set_mapping(job, ["email", "first_name", "last_name"], funnel.id)
    return job


def _fresh(job_id: str) -> LeadImport:
    db.session.rollback()  # a fresh snapshot: a worker process may have written
    return db.session.get(LeadImport, job_id, populate_existing=True)


def _counters() -> list[int]:
    db.session.rollback()
    db.session.expire_all()
    return sorted(db.session.scalars(db.select(Lead.counter)))


def _expire_lease(job_id: str) -> None:
    db.session.execute(
        update(LeadImport)
        .where(LeadImport.id == job_id)
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_a_killed_worker_process_leaves_the_rest_to_the_next_and_no_row_twice(app, monkeypatch):
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 10)
    job = _queued(ws, funnel, _people(200))

    with worker_process(app, lease_seconds=2) as first:
        assert eventually(lambda: _fresh(job.id).rows_done >= 20, timeout=30)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=5)
    stopped = _fresh(job.id)
    assert stopped.status == ImportStatus.QUEUED and stopped.rows_done < 200
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == stopped.created_count

    with worker_process(app, lease_seconds=2):  # takes the job over once the lease ran out
        assert eventually(lambda: _fresh(job.id).status == ImportStatus.FINISHED, timeout=60)

    done = _fresh(job.id)
    assert (done.created_count, done.updated_count, done.rejected_count) == (200, 0, 0)
    assert _counters() == [1] * 200  # each person registered once


def test_a_worker_killed_inside_a_chunk_leaves_none_of_it_and_resumes_it_whole(monkeypatch):
    """A chunk's registrations commit with its progress in one transaction: killed as it is
    open (at the third lead written), nothing of the chunk stays, and the job taken over
    registers every row once."""
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    job = _queued(ws, funnel, _people(6))
    real = lead_import_job.register_many

    def killed_at_the_third(origin, inputs, context, **options):
        note, calls = context.on_written, []

        def written(lead_id: str, created: bool) -> None:
            calls.append(lead_id)
            if len(calls) == 3:
                raise KeyboardInterrupt  # SIGINT: the transaction is open, nothing commits
            if note is not None:
                note(lead_id, created)

        context.on_written = written
        return real(origin, inputs, context, **options)

    monkeypatch.setattr(lead_import_job, "register_many", killed_at_the_third)
    _, lease = lead_import_job.claim()
    with pytest.raises(KeyboardInterrupt):
        lead_import_job.run_chunk(job.id, lease)
    db.session.rollback()
    db.session.expire_all()
    stopped = _fresh(job.id)
    interrupted = (stopped.rows_done, stopped.created_count, list(stopped.chunk_done))
    monkeypatch.setattr(lead_import_job, "register_many", real)
    _expire_lease(job.id)
    worker.run_once()

    assert interrupted == (0, 0, [])
    done = _fresh(job.id)
    assert (done.status, done.created_count, done.rows_done) == (ImportStatus.FINISHED, 6, 6)
    assert _counters() == [1] * 6


def test_a_worker_killed_in_a_chunk_run_row_by_row_resumes_after_the_rows_it_committed(
    monkeypatch,
):
    """A chunk that failed as a whole runs row by row, each row committed with its progress
    (`chunk_done`): killed at the fourth row, the three before it stay, and the job taken
    over registers the other three, each person once."""
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    job = _queued(ws, funnel, _people(6))
    real, rows_run = lead_import_job.register_many, []

    def a_bad_batch_then_killed_at_the_fourth_row(origin, inputs, context, **options):
        if len(inputs) > 1:
            raise RuntimeError("a batch that fails as a whole")
        rows_run.append(inputs)
        if len(rows_run) == 4:
            raise KeyboardInterrupt  # SIGINT as the fourth row's transaction is under way
        return real(origin, inputs, context, **options)

    monkeypatch.setattr(lead_import_job, "register_many", a_bad_batch_then_killed_at_the_fourth_row)
    monkeypatch.setattr(lead_import_job.log, "exception", lambda *args: None)
    _, lease = lead_import_job.claim()
    with pytest.raises(KeyboardInterrupt):
        lead_import_job.run_chunk(job.id, lease)
    stopped = _fresh(job.id)
    interrupted = (stopped.rows_done, stopped.created_count, list(stopped.chunk_done))
    interrupted_counters = _counters()
    monkeypatch.setattr(lead_import_job, "register_many", real)
    _expire_lease(job.id)
    worker.run_once()

    assert interrupted == (3, 3, [0, 1, 2]) and interrupted_counters == [1, 1, 1]
    done = _fresh(job.id)
    assert (done.status, done.created_count, done.rows_done) == (ImportStatus.FINISHED, 6, 6)
    assert list(done.chunk_done) == []
    assert _counters() == [1] * 6


def test_cancel_stops_after_the_current_chunk_and_says_so_with_the_counts(
    client, auth, monkeypatch
):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)
    job = _queued(ws, funnel, _people(6))
    _, lease = lead_import_job.claim()
    assert lead_import_job.run_chunk(job.id, lease) is True  # a worker is at it

    asked = _post(client, job.id, "cancel", {})
    more = lead_import_job.run_chunk(job.id, lease)
    report = client.get(f"/p/leads/import/{job.id}/report", headers=HTMX)

    assert asked.status_code == 200 and "Stopping after the rows under way" in asked.get_data(
        as_text=True
    )
    assert more is False
    body = report.get_data(as_text=True)
    assert "Cancelled" in body and "after 2 of 6 rows" in body and "hx-trigger" not in body
    assert _fresh(job.id).status == ImportStatus.CANCELLED
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 2


def test_cancelling_an_import_no_worker_holds_stops_it_at_once(client, auth):
    ws = _sign_in(auth)
    job = _queued(ws, factories.funnel(ws), _people(3))

    _post(client, job.id, "cancel", {})
    worker.run_once()

    assert _fresh(job.id).status == ImportStatus.CANCELLED
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_a_worker_whose_lease_was_taken_over_writes_nothing(monkeypatch):
    ws = factories.workspace()
    job = _queued(ws, factories.funnel(ws), _people(3))
    _, lease = lead_import_job.claim()
    real = lead_import_job._origin

    def taken_over_meanwhile(item):
        origin = real(item)
        db.session.execute(
            update(LeadImport).where(LeadImport.id == item.id).values(lease_token="another")
        )
        db.session.commit()
        return origin

    monkeypatch.setattr(lead_import_job, "_origin", taken_over_meanwhile)

    assert lead_import_job.run_import(job.id, lease) == 0
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0
    assert _fresh(job.id).rows_done == 0


def test_the_shell_command_imports_a_file_through_an_origin(runner, tmp_path):
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    api = factories.origin(funnel, OriginKind.API)
    factories.lead(ws, email="p1@example.com")
    path = tmp_path / "people.csv"
    path.write_bytes(_people(3) + b"not-an-email,Bad,Row\n")

    result = runner.invoke(args=["leadsite", "import", str(path), "--origin", api.ref])
    wrong = runner.invoke(
        args=["leadsite", "import", str(path), "--origin", api.ref, "--mapping", "email="]
    )

    assert result.exit_code == 0, result.output
    assert "finished: 2 created, 1 updated, 1 rejected" in result.output
    assert wrong.exit_code != 0 and "No column is imported as email" in wrong.output
    origins = set(
        db.session.scalars(db.select(Lead.origin_id).filter(Lead.email != "p1@example.com"))
    )
    assert origins == {api.id}


def test_a_chunk_runs_without_the_cyclic_garbage_collector_which_is_on_again_after(monkeypatch):
    ws = factories.workspace()
    job = _queued(ws, factories.funnel(ws), _people(3))
    _, lease = lead_import_job.claim()
    real, seen = lead_import_job.run_chunk, []

    def watched(job_id: str, token: str) -> bool:
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise RuntimeError("the database went away")
        return real(job_id, token)

    monkeypatch.setattr(lead_import_job, "run_chunk", watched)
    assert gc.isenabled()

    assert lead_import_job.run_import(job.id, lease) == 1
    assert seen == [False] and gc.isenabled()
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 3
    with pytest.raises(RuntimeError):
        lead_import_job.run_import(job.id, lead_import_job.claim_one(job.id))
    assert seen == [False, False] and gc.isenabled()


def test_postgresql_has_fresh_statistics_of_the_tables_an_import_grows(monkeypatch):
    """Analyzed after the 1st, 2nd and 4th chunk (of 5): the planner sees the leads the import
    wrote, not the empty tables it started with (on this machine autovacuum is off; a chunk of
    500 after 15,000 leads spent 4.5 s checking its events' foreign keys through whole scans)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite has none to keep (ANALYZE once)")
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)
    ws = factories.workspace()
    job = _queued(ws, factories.funnel(ws), _people(10))

    assert lead_import_job.run_import(job.id, lead_import_job.claim_one(job.id)) == 5  # chunks

    estimated = db.session.execute(
        db.text("SELECT relname, reltuples FROM pg_class WHERE relname IN ('leads', 'journeys')")
    )
    assert dict(estimated.all()) == {"leads": 8, "journeys": 8}  # as analyzed after chunk 4


def test_an_import_that_only_updates_leads_analyzes_only_after_its_first_chunk(monkeypatch):
    """Its leads exist: it grows nothing the plans read. Once, after its first chunk (the
    leads it found may never have been analyzed), but not after its 2nd, 4th, 8th ... chunk:
    that cost PostgreSQL a sample of every table for nothing (11 times in 1,000,000 rows)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite has none to keep (ANALYZE once)")
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)
    ws = factories.workspace()
    funnel = factories.funnel(ws)
    first = _queued(ws, funnel, _people(8))
    lead_import_job.run_import(first.id, lead_import_job.claim_one(first.id))
    again = _queued(ws, funnel, _people(8))

    with captured_statements(lambda sql: sql.startswith("ANALYZE")) as analyzed:
        assert lead_import_job.run_import(again.id, lead_import_job.claim_one(again.id)) == 4

    assert (_fresh(again.id).updated_count, len(analyzed)) == (8, 1)


def test_an_analyze_that_fails_does_not_stop_the_import(monkeypatch, caplog):
    """The statistics only help the plans: an ANALYZE that fails (over the statement timeout on
    big tables, say) is logged, and the import goes on from the chunk it committed."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite has none to keep (ANALYZE once)")
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)
    monkeypatch.setattr(lead_import_job, "GROWN_TABLES", "leads, no_such_table")
    ws = factories.workspace()
    job = _queued(ws, factories.funnel(ws), _people(5))

    assert lead_import_job.run_import(job.id, lead_import_job.claim_one(job.id)) == 3

    done = _fresh(job.id)
    assert (done.status, done.created_count) == (ImportStatus.FINISHED, 5)
    assert "could not analyze" in caplog.text


def test_the_refused_rows_csv_reads_them_a_page_at_a_time_in_order():
    ws = factories.workspace()
    lines = "".join(
        f"{'bad' if n % 2 else 'p'}{n}{'' if n % 2 else '@example.com'},P,{n}\n" for n in range(10)
    )
    job = _queued(ws, factories.funnel(ws), ("email,first_name,last_name\n" + lines).encode())
    lead_import_job.run_import(job.id, lead_import_job.claim_one(job.id))

    parts = list(rejected_csv(_fresh(job.id), page=2))

    rows = list(csv.reader(io.StringIO("".join(parts).lstrip("\ufeff"))))
    assert len(parts) == 1 + 3  # the header, then pages of 2, 2 and 1
    assert [row[:2] for row in rows[1:]] == [[str(n + 2), f"bad{n}"] for n in (1, 3, 5, 7, 9)]
