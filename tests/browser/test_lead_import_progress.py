"""A long CSV import in Chromium: the progress bar moves while the worker runs it, survives a
reload, and Cancel stops it after the chunk under way, with the counts so far."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect

from leadsite.extensions import db
from leadsite.leads.imports import upload as lead_import
from leadsite.models import ImportStatus, Lead, LeadImport
from tests import factories
from tests.browser.test_leads_list_import import _sign_in, running_worker

ROWS = 3000


def test_progress_survives_a_reload_and_cancel_stops_the_import(
    app: Flask, page: Page, live_server: str, tmp_path: Path, monkeypatch
):
    ws = factories.workspace()
    factories.funnel(ws, "Spring fair")
    csv_file = tmp_path / "many.csv"
    csv_file.write_text(
        "email,first_name\n" + "".join(f"p{n}@example.com,P{n}\n" for n in range(ROWS)),
        encoding="utf-8",
    )
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 5)  # many small chunks: time to press Cancel
    _sign_in(page, live_server, factories.user(ws), "/p/leads/import")
    with running_worker(app):
        page.get_by_label("CSV file").set_input_files(csv_file)
        page.get_by_role("button", name="Upload and map the columns").click()
        page.get_by_role("button", name=f"Import {ROWS:,} rows").click()

        expect(page).to_have_url(re.compile(r"/report$"))
        bar = page.locator("#import-progress")
        expect(bar).to_have_attribute("max", str(ROWS))
        # The polling shows the worker's progress.
        expect(bar).not_to_have_attribute("value", "0", timeout=15_000)
        first = int(bar.get_attribute("value"))
        page.reload()  # the page is the job's: a reload shows it where it is, and polls on
        expect(bar).not_to_have_attribute("value", str(first), timeout=15_000)
        page.get_by_role("button", name="Cancel the import").click()

        state = page.locator(".import-state")
        expect(state).to_contain_text("Cancelled", timeout=15_000)
        expect(page.locator(".import-stats")).to_be_visible()
    db.session.rollback()
    db.session.expire_all()
    job = db.session.scalar(db.select(LeadImport))
    assert job.status == ImportStatus.CANCELLED and first < job.rows_done < ROWS
    expect(state).to_contain_text(f"after {job.rows_done:,} of {ROWS:,} rows")
    expect(page.locator(".import-stats")).to_contain_text(f"{job.created_count:,}created")
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == job.created_count
