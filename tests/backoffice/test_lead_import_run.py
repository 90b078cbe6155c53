"""CSV import, the run: preview, every row through the pipeline, batches, the report."""

from __future__ import annotations

import csv
import io
import re

from flask import g

from leadsite.backoffice import lead_import as import_views
from leadsite.extensions import db
from leadsite.leads.imports import job as lead_import_job
from leadsite.leads.imports import upload as lead_import
from leadsite.models import (
    DataPointType,
    ImportStatus,
    Journey,
    JourneyData,
    Lead,
    LeadImport,
    LeadImportChunk,
    OnDuplicate,
    Origin,
    OriginKind,
)
from leadsite.outbox import worker
from tests import factories
from tests.backoffice.test_lead_import import (
    HTMX,
    MAPPING,
    SAMPLE,
    _post,
    _selected,
    _sign_in,
    _token,
    _upload,
    _world,
)
from tests.conftest import csrf_token


def test_the_preview_checks_the_first_rows_like_the_pipeline(client, auth):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))

    response = _post(client, token, "preview", {"funnel": funnel.id, **MAPPING})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="import-preview"') and "<html" not in body
    rows = re.findall(r'<td class="num">(\d+)</td>(.*?)</tr>', body, re.S)
    verdicts = {
        int(number): re.search(r'data-status="\w+">([^<]+)<', cells).group(1)
        for number, cells in rows
    }
    assert verdicts == {2: "new lead", 3: "updates a lead", 4: "rejected", 6: "new lead"}
    assert "E-mail: Email needs an @ sign. Enter an address like name@example.com." in body
    assert '<th scope="col">Company</th>' in body and "Analytical Engines" in body
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 1  # nothing written


def test_the_preview_counts_an_earlier_row_of_the_file_as_that_person(client, auth):
    # Found from outside: a file with one email twice previewed both rows as "new lead"; the
    # run created one lead and updated it with the second row.
    _, funnel = _world(auth)
    twice = SAMPLE + "ADA@example.com,Ada,Byron,,\n"
    token = _token(_upload(client, twice))

    response = _post(client, token, "preview", {"funnel": funnel.id, **MAPPING})

    rows = re.findall(
        r'<td class="num">(\d+)</td>(.*?)</tr>', response.get_data(as_text=True), re.S
    )
    verdicts = {int(n): re.search(r'data-status="\w+">([^<]+)<', c).group(1) for n, c in rows}
    assert verdicts[2] == "new lead" and verdicts[7] == "updates a lead"


def test_the_run_needs_a_funnel_its_identifier_and_each_field_once(client, auth):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))

    no_email = _post(client, token, "run", {"funnel": funnel.id, "column-1": "first_name"})
    twice = _post(client, token, "run", {**MAPPING, "funnel": funnel.id, "column-4": "email"})
    no_funnel = _post(client, token, "run", MAPPING)

    assert no_email.status_code == twice.status_code == no_funnel.status_code == 422
    assert "Map a column to Email" in no_email.get_data(as_text=True)
    assert "Two columns go to Email" in twice.get_data(as_text=True)
    assert "Choose the funnel" in no_funnel.get_data(as_text=True)
    assert no_email.get_data(as_text=True).lstrip().startswith('<section id="import"')
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 1


def _run(client, token: str, data: dict) -> str:
    """Start the import, let the worker's loop run it, and read the report (an htmx block)."""
    started = _post(client, token, "run", data)
    assert started.status_code == 200, started.get_data(as_text=True)
    worker.run_once()
    return client.get(f"/p/leads/import/{token}/report", headers=HTMX).get_data(as_text=True)


def test_the_worker_registers_every_row_and_the_report_counts_them(client, auth):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))

    started = _post(client, token, "run", {"funnel": funnel.id, **MAPPING})
    waiting = started.get_data(as_text=True)
    ran = worker.run_once()
    report = client.get(f"/p/leads/import/{token}/report")

    assert started.headers["HX-Push-Url"] == f"/p/leads/import/{token}/report"
    assert waiting.lstrip().startswith('<section id="import"') and "0 of 4 rows done" in waiting
    assert f'hx-get="/p/leads/import/{token}/report" hx-trigger="every 1s"' in waiting
    assert ran >= 1
    body = report.get_data(as_text=True)
    assert report.status_code == 200 and "<html" in body and "hx-trigger" not in body
    assert re.search(r'stat-value">2<.*?created.*?stat-value">1<.*?updated', body, re.S)
    assert re.search(r'stat-value">1<.*?rejected', body, re.S)
    rejected = body.split('class="data-table report-rejected"')[1].split("</table>")[0]
    assert '<td class="num">4</td>' in rejected and "not-an-email" in rejected
    assert "E-mail: Email needs an @ sign. Enter an address like name@example.com." in rejected

    db.session.expire_all()
    leads = {lead.email: lead for lead in db.session.scalars(db.select(Lead))}
    assert set(leads) == {"ada@example.com", "known@example.com", "grace@example.com"}
    ada = leads["ada@example.com"]
    assert (
        ada.custom_fields == {"favourite_colour": "blue"}
        and leads["known@example.com"].first_name == "Known"
    )
    origin = db.session.get(Origin, ada.origin_id)
    assert (origin.kind, origin.funnel_id, origin.name) == (
        OriginKind.IMPORT,
        funnel.id,
        "CSV import",
    )
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=ada.id))
    assert db.session.scalar(db.select(JourneyData.value).filter_by(journey_id=journey.id)) == (
        "Analytical Engines"
    )
    job = db.session.get(LeadImport, token)
    assert (job.status, job.rows_done, job.created_count, job.updated_count) == (
        ImportStatus.FINISHED,
        4,
        2,
        1,
    )
    # The rows are gone once run; the refused one stays for the report.
    assert db.session.scalar(db.select(db.func.count()).select_from(LeadImportChunk)) == 0


def test_a_funnel_that_rejects_duplicates_rejects_known_leads(client, auth):
    _, funnel = _world(auth, on_duplicate=OnDuplicate.REJECT)
    token = _token(_upload(client, SAMPLE))

    body = _run(client, token, {"funnel": funnel.id, **MAPPING})

    assert re.search(r'stat-value">2<.*?created.*?stat-value">0<.*?updated', body, re.S)
    assert re.search(r'stat-value">2<.*?rejected', body, re.S)
    assert "A lead with this email already exists, and the funnel rejects duplicates." in body


def test_rejected_rows_download_with_their_reasons_safe_from_formulas(client, auth):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE + '=HYPERLINK("http://x"),@SUM(1),Eve,,\n'))
    _run(client, token, {"funnel": funnel.id, **MAPPING})

    response = client.get(f"/p/leads/import/{token}/rejected.csv")

    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == [
        "row",
        "E-mail",
        "First Name",
        "Last name",
        "Company",
        "Favourite colour",
        "error",
    ]
    assert rows[1][:6] == ["4", "not-an-email", "Bad", "Row", "", ""]
    assert rows[1][6].startswith("E-mail: Email needs an @ sign.")
    assert rows[2][:3] == ["7", '\'=HYPERLINK("http://x")', "'@SUM(1)"]
    assert len(rows) == 3


def test_a_big_file_runs_in_chunks_and_resumes_where_it_stopped(client, auth, monkeypatch):
    """A worker stopped after a chunk (killed, or its turn over): the next turn goes on from
    the next chunk, and no row is registered twice."""
    _, funnel = _world(auth)
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)
    token = _token(_upload(client, SAMPLE))
    _post(client, token, "run", {"funnel": funnel.id, **MAPPING})

    job_id, lease = lead_import_job.claim()
    assert lead_import_job.run_chunk(job_id, lease) is True  # one chunk, then "killed"
    halfway = client.get(f"/p/leads/import/{token}/report").get_data(as_text=True)
    taken = lead_import_job.claim()  # the lease still holds: no other worker takes it
    lead_import_job.release(job_id, lease)
    worker.run_once()

    assert "2 of 4 rows done" in halfway and "<progress" in halfway
    assert taken is None
    db.session.expire_all()
    job = db.session.get(LeadImport, token)
    assert (job.status, job.created_count, job.updated_count, job.rejected_count) == (
        ImportStatus.FINISHED,
        2,
        1,
        1,
    )
    counters = dict(db.session.execute(db.select(Lead.email, Lead.counter)).all())
    assert counters == {"ada@example.com": 1, "known@example.com": 2, "grace@example.com": 1}


def test_without_javascript_the_run_redirects_to_the_report(client, auth):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))

    response = _post(client, token, "run", {"funnel": funnel.id, **MAPPING}, htmx=False)

    assert response.status_code == 303
    assert response.headers["Location"] == f"/p/leads/import/{token}/report"


def test_full_names_json_custom_fields_and_data_points_are_read(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.data_point(ws, "size", label="Size", type=DataPointType.NUMBER)
    text = (
        "email,Full name,custom_fields,size\n"
        'ada@example.com,Ada King Lovelace,"{""plan"": ""pro""}",12\n'
        "bad@example.com,Bad Json,{not json,x\n"
    )
    token = _token(_upload(client, text))
    mapping_page = client.get(f"/p/leads/import/{token}").get_data(as_text=True)
    assert [_selected(mapping_page, i) for i in range(4)] == [
        "email",
        "name",
        "custom_fields",
        "data:size",
    ]

    body = _run(
        client,
        token,
        {
            "funnel": funnel.id,
            "column-0": "email",
            "column-1": "name",
            "column-2": "custom_fields",
            "column-3": "data:size",
        },
    )

    assert re.search(r'stat-value">1<.*?created.*?stat-value">0<.*?updated', body, re.S)
    assert "custom_fields: not a JSON object" in body
    db.session.expire_all()
    ada = db.session.scalar(db.select(Lead).filter_by(email="ada@example.com"))
    assert (ada.first_name, ada.last_name, ada.custom_fields) == (
        "Ada",
        "King Lovelace",
        {"plan": "pro"},
    )


def test_a_file_exported_from_the_list_imports_back_as_updates(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.lead(
        ws, email="ada@example.com", first_name="=cmd", tags=["a", "b"], custom_fields={"n": 1}
    )
    exported = client.get("/p/leads/export").get_data()

    token = _token(_upload(client, exported, "leads-export.csv"))
    page = client.get(f"/p/leads/import/{token}").get_data(as_text=True)
    guessed = {
        f"column-{i}": _selected(page, i)
        for i in range(len(lead_import.load(token, ws.id).columns))
    }
    body = _run(client, token, {"funnel": funnel.id, **guessed})

    assert re.search(r'stat-value">0<.*?created.*?stat-value">1<.*?updated', body, re.S)
    db.session.expire_all()
    lead = db.session.scalar(db.select(Lead))
    assert (lead.first_name, lead.tags, lead.custom_fields) == ("=cmd", ["a", "b"], {"n": 1})


def test_every_step_is_a_page_without_htmx_and_a_block_with_it(client, auth, monkeypatch):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))

    mapping = client.get(f"/p/leads/import/{token}", headers=HTMX)
    preview = _post(client, token, "preview", {"funnel": funnel.id, "column-0": "email"}, False)
    progress = _post(client, token, "run", {"funnel": funnel.id, **MAPPING}, htmx=False)
    report = client.get(f"/p/leads/import/{token}/report", headers=HTMX)

    assert mapping.get_data(as_text=True).lstrip().startswith('<section id="import"')
    page = preview.get_data(as_text=True)
    assert "<html" in page and _selected(page, 0) == "email" and _selected(page, 1) == ""
    assert progress.status_code == 303
    page = client.get(progress.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "0 of 4 rows done" in page
    assert f'action="/p/leads/import/{token}/cancel"' in page and "Cancel the import" in page
    assert report.get_data(as_text=True).lstrip().startswith('<section id="import"')


def test_an_upload_beyond_the_request_limit_gets_the_importers_words(client, auth, monkeypatch):
    _sign_in(auth)
    token = csrf_token(client, "/p/leads/import")
    monkeypatch.setattr(lead_import, "MAX_BYTES", 500)
    monkeypatch.setattr(import_views, "ENVELOPE_BYTES", 500)

    response = client.post(
        "/p/leads/import",
        data={"csrf_token": token, "file": (io.BytesIO(b"email\n" + b"x" * 2000), "big.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 413
    assert "at most 200 MB can be imported at once" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(LeadImport.id))) == 0


def test_an_upload_without_the_forms_token_is_refused(client, auth):
    """The view is exempt from the app-wide CSRF check (it must raise its size limit first):
    the form checks the token itself."""
    _sign_in(auth)
    # The test's requests share its app context: forget that the sign-in's token was checked.
    g.pop("csrf_valid", None)

    response = client.post(
        "/p/leads/import",
        data={"file": (io.BytesIO(b"email\na@example.com\n"), "a.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(LeadImport.id))) == 0


def test_custom_fields_json_no_column_can_hold_refuses_its_row_alone(client, auth):
    """Nested past the parser, NaN, a NUL or a lone surrogate (as JSON escapes): the row is
    refused with its reason, the file's other rows are imported."""
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    deep = "[" * 1100 + "]" * 1100
    text = (
        "email,custom_fields\n"
        f"deep@example.com,{deep}\n"
        'nan@example.com,"{""a"": NaN}"\n'
        'nul@example.com,"{""a"": ""x\\u0000y""}"\n'
        'surrogate@example.com,"{""\\ud800"": 1}"\n'
        'ada@example.com,"{""plan"": ""pro""}"\n'
    )
    token = _token(_upload(client, text))

    body = _run(
        client, token, {"funnel": funnel.id, "column-0": "email", "column-1": "custom_fields"}
    )

    assert re.search(r'stat-value">1<.*?created', body, re.S), body
    assert body.count("custom_fields: not a JSON object") == 4
    db.session.expire_all()
    emails = db.session.scalars(db.select(Lead.email)).all()
    assert emails == ["ada@example.com"]
