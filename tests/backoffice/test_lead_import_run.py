"""CSV import, the run: preview, every row through the pipeline, batches, the report."""

from __future__ import annotations

import io
import re

import pytest

from leadsite import lead_import, lead_import_run
from leadsite.extensions import db
from leadsite.models import (
    DataPointType,
    Journey,
    JourneyData,
    Lead,
    OnDuplicate,
    Origin,
    OriginKind,
)
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


@pytest.fixture(autouse=True)
def import_folder(app, tmp_path):
    """Uploads go to a folder of this test's own."""
    app.config["LEAD_IMPORT_FOLDER"] = str(tmp_path / "imports")
    yield tmp_path / "imports"
    app.config.pop("LEAD_IMPORT_FOLDER", None)


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


def test_the_run_registers_every_row_and_reports_each_outcome(client, auth, import_folder):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))

    response = _post(client, token, "run", {"funnel": funnel.id, **MAPPING})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Push-Url"] == f"/p/leads/import/{token}/report"
    assert body.lstrip().startswith('<section id="import"')
    assert "Import finished: 2 created, 1 updated, 1 rejected." in body
    assert re.search(r'stat-value">2<.*?created.*?stat-value">1<.*?updated', body, re.S)
    rejected = body.split('class="data-table report-rejected"')[1].split("</table>")[0]
    assert '<td class="num">4</td>' in rejected and "not-an-email" in rejected
    assert "E-mail: Email needs an @ sign. Enter an address like name@example.com." in rejected
    assert "Row 2</span> <a href=" in body and "Ada Lovelace" in body
    assert "Row 3</span>" in body and "Known Person" in body

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
    assert sorted(p.suffix for p in import_folder.iterdir()) == [".json", ".jsonl"]
    report = client.get(f"/p/leads/import/{token}/report")
    assert report.status_code == 200 and "<html" in report.get_data(as_text=True)
    assert "Rejected rows" in report.get_data(as_text=True)


def test_a_funnel_that_rejects_duplicates_rejects_known_leads(client, auth):
    _, funnel = _world(auth, on_duplicate=OnDuplicate.REJECT)
    token = _token(_upload(client, SAMPLE))

    body = _post(client, token, "run", {"funnel": funnel.id, **MAPPING}).get_data(as_text=True)

    assert "2 created, 0 updated, 2 rejected" in body
    assert "A lead with this email already exists, and the funnel rejects duplicates." in body


def test_rejected_rows_download_with_their_reasons(client, auth):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))
    _post(client, token, "run", {"funnel": funnel.id, **MAPPING})

    response = client.get(f"/p/leads/import/{token}/rejected.csv")

    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[0] == "row,E-mail,First Name,Last name,Company,Favourite colour,error"
    assert lines[1].startswith(
        "4,not-an-email,Bad,Row,,,E-mail: Email needs an @ sign. "
        "Enter an address like name@example.com."
    )


def test_a_big_file_runs_in_batches_until_done(client, auth, monkeypatch):
    _, funnel = _world(auth)
    monkeypatch.setattr(lead_import_run, "BATCH_ROWS", 2)
    token = _token(_upload(client, SAMPLE))

    first = _post(client, token, "run", {"funnel": funnel.id, **MAPPING})
    report_early = client.get(f"/p/leads/import/{token}/report")
    second = _post(client, token, "continue", {})
    third = _post(client, token, "continue", {}, htmx=False)

    body = first.get_data(as_text=True)
    assert "2 of 4 rows done" in body
    assert f'hx-post="/p/leads/import/{token}/continue" hx-trigger="load"' in body
    assert "2 of 4 rows done" in report_early.get_data(as_text=True)
    assert "Import finished" in second.get_data(as_text=True)
    assert third.status_code == 303  # already finished: straight to the report
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 3


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

    body = _post(
        client,
        token,
        "run",
        {
            "funnel": funnel.id,
            "column-0": "email",
            "column-1": "name",
            "column-2": "custom_fields",
            "column-3": "data:size",
        },
    ).get_data(as_text=True)

    assert "1 created, 0 updated, 1 rejected" in body
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
    body = _post(client, token, "run", {"funnel": funnel.id, **guessed}).get_data(as_text=True)

    assert "0 created, 1 updated, 0 rejected" in body
    db.session.expire_all()
    lead = db.session.scalar(db.select(Lead))
    assert (lead.first_name, lead.tags, lead.custom_fields) == ("=cmd", ["a", "b"], {"n": 1})


def test_every_step_is_a_page_without_htmx_and_a_block_with_it(client, auth, monkeypatch):
    _, funnel = _world(auth)
    token = _token(_upload(client, SAMPLE))
    monkeypatch.setattr(lead_import_run, "BATCH_ROWS", 2)

    mapping = client.get(f"/p/leads/import/{token}", headers=HTMX)
    preview = _post(client, token, "preview", {"funnel": funnel.id, "column-0": "email"}, False)
    progress = _post(client, token, "run", {"funnel": funnel.id, **MAPPING}, htmx=False)
    report = client.get(f"/p/leads/import/{token}/report", headers=HTMX)

    assert mapping.get_data(as_text=True).lstrip().startswith('<section id="import"')
    page = preview.get_data(as_text=True)
    assert "<html" in page and _selected(page, 0) == "email" and _selected(page, 1) == ""
    body = progress.get_data(as_text=True)
    assert progress.status_code == 200 and "<html" in body and "2 of 4 rows done" in body
    assert f'action="/p/leads/import/{token}/continue"' in body and ">Continue</button>" in body
    assert report.get_data(as_text=True).lstrip().startswith('<section id="import"')


def test_an_upload_beyond_the_request_limit_gets_the_importers_words(app, client, auth):
    _sign_in(auth)
    token = csrf_token(client, "/p/leads/import")
    app.config["MAX_CONTENT_LENGTH"], before = 1000, app.config["MAX_CONTENT_LENGTH"]
    try:
        response = client.post(
            "/p/leads/import",
            data={"csrf_token": token, "file": (io.BytesIO(b"email\n" + b"x" * 2000), "big.csv")},
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before

    assert response.status_code == 413
    assert "at most 5 MB can be imported at once" in response.get_data(as_text=True)
