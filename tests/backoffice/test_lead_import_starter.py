"""CSV import, the job on behalf of its starter: it stops, cancelled, once they lose access to
the workspace (their membership deactivated or removed, their account deactivated), keeping
the rows committed before, and its page says why. (The race with a deactivation through a real
server: tests/concurrency/test_started_work.py.)"""

from __future__ import annotations

from sqlalchemy import delete, update

from leadsite.extensions import db
from leadsite.leads.imports import job as lead_import_job
from leadsite.leads.imports import upload as lead_import
from leadsite.models import ImportStatus, Lead, Membership, Role, User
from tests import factories
from tests.backoffice.test_lead_import_job import _fresh, _people, _queued

WHY = "bea@example.com, who started this import, no longer has access to Acme"


def _leads() -> int:
    return db.session.scalar(db.select(db.func.count(Lead.id)))


def test_an_import_whose_starter_left_before_it_ran_imports_nothing():
    """Their membership removed while the import waited for a worker."""
    ws = factories.workspace("Acme")
    bea = factories.user(ws, role=Role.MANAGER, email="bea@example.com")
    job = _queued(ws, factories.funnel(ws), _people(3), user_id=bea.id)
    db.session.execute(delete(Membership).filter_by(user_id=bea.id))
    db.session.commit()

    assert lead_import_job.run_import(job.id, lead_import_job.claim_one(job.id)) == 1

    done = _fresh(job.id)
    assert (done.status, done.rows_done, done.error) == (
        ImportStatus.CANCELLED,
        0,
        WHY + "; no row was imported after that.",
    )
    assert _leads() == 0


def test_an_import_stops_at_the_chunk_after_its_starters_account_is_deactivated(
    client, auth, monkeypatch
):
    ws = factories.workspace("Acme")
    bea = factories.user(ws, role=Role.MANAGER, email="bea@example.com")
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)
    job = _queued(ws, factories.funnel(ws), _people(6), user_id=bea.id)
    lease = lead_import_job.claim_one(job.id)
    assert lead_import_job.run_chunk(job.id, lease) is True
    db.session.execute(update(User).filter_by(id=bea.id).values(active=False))
    db.session.commit()

    assert lead_import_job.run_chunk(job.id, lease) is False
    auth.login(factories.user(ws, email="ada@example.com").email)
    page = client.get(f"/p/leads/import/{job.id}/report").get_data(as_text=True)

    done = _fresh(job.id)
    assert (done.status, done.rows_done, done.created_count) == (ImportStatus.CANCELLED, 2, 2)
    assert _leads() == 2
    assert "after 2 of 6 rows: " + WHY in page and "The rows before stay imported" in page


def test_a_chunk_run_row_by_row_stops_at_the_row_after_the_deactivation(monkeypatch):
    """A chunk that failed as a whole runs a row at a time, each row committed: the rows
    committed before the deactivation stay, the rest of the chunk and of the file do not."""
    ws = factories.workspace("Acme")
    bea = factories.user(ws, role=Role.MANAGER, email="bea@example.com")
    job = _queued(ws, factories.funnel(ws), _people(6), user_id=bea.id)
    real, rows_run = lead_import_job.register_many, []

    def a_bad_batch_then_deactivated_after_two_rows(origin, inputs, context, **options):
        if len(inputs) > 1:
            raise RuntimeError("a batch that fails as a whole")
        rows_run.append(inputs)
        if len(rows_run) == 3:  # committed by the administrator, as this row starts
            db.session.execute(update(Membership).filter_by(user_id=bea.id).values(active=False))
            db.session.commit()
        return real(origin, inputs, context, **options)

    monkeypatch.setattr(
        lead_import_job, "register_many", a_bad_batch_then_deactivated_after_two_rows
    )
    monkeypatch.setattr(lead_import_job.log, "exception", lambda *args: None)

    assert lead_import_job.run_chunk(job.id, lead_import_job.claim_one(job.id)) is False

    done = _fresh(job.id)
    assert (done.status, done.rows_done, done.created_count) == (ImportStatus.CANCELLED, 2, 2)
    assert done.error.startswith(WHY)
    assert _leads() == 2
