"""CSV import: upload, guessed mapping, preview, run through the pipeline, report."""

from __future__ import annotations

import io
import os
import re
import time

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
    Role,
    Workspace,
)
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
SAMPLE = (
    "E-mail,First Name,Last name,Company,Favourite colour\n"
    "ada@example.com,Ada,Lovelace,Analytical Engines,blue\n"
    "known@example.com,Known,Person,,green\n"
    "not-an-email,Bad,Row,,\n"
    ",,,,\n"
    "grace@example.com,Grace,Hopper,Navy,red\n"
)


@pytest.fixture(autouse=True)
def import_folder(app, tmp_path):
    """Uploads go to a folder of this test's own."""
    app.config["LEAD_IMPORT_FOLDER"] = str(tmp_path / "imports")
    yield tmp_path / "imports"
    app.config.pop("LEAD_IMPORT_FOLDER", None)


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _upload(client, content: str | bytes, name: str = "leads.csv"):
    data = content.encode() if isinstance(content, str) else content
    token = csrf_token(client, "/p/leads/import")
    return client.post(
        "/p/leads/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _token(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def _selected(body: str, index: int) -> str:
    select = re.search(rf'<select name="column-{index}".*?</select>', body, re.S)
    assert select, f"no select for column {index}"
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def _post(client, token: str, step: str, data: dict, htmx: bool = True):
    form = {"csrf_token": csrf_token(client, "/p/leads/import"), **data}
    return client.post(f"/p/leads/import/{token}/{step}", data=form, headers=HTMX if htmx else None)


MAPPING = {
    "column-0": "email",
    "column-1": "first_name",
    "column-2": "last_name",
    "column-3": "data:company",
    "column-4": "custom",
}


def _world(auth, **funnel_fields) -> tuple[Workspace, object]:
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, "Fair", **funnel_fields)
    factories.data_point(ws, "company", label="Company")
    factories.lead(ws, email="known@example.com", first_name="Old")
    return ws, funnel


def test_the_upload_page_is_whole_without_htmx_and_a_block_with_it(client, auth):
    _sign_in(auth, role=Role.MANAGER)

    full = client.get("/p/leads/import")
    partial = client.get("/p/leads/import", headers=HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True) and 'type="file"' in full.get_data(as_text=True)
    fragment = partial.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="import"')
    assert 'href="/p/leads/import"' in client.get("/p/leads").get_data(as_text=True)


def test_an_upload_is_kept_in_the_folder_and_its_columns_guessed(client, auth, import_folder):
    _world(auth)

    token = _token(_upload(client, SAMPLE))
    page = client.get(f"/p/leads/import/{token}")

    assert sorted(p.suffix for p in import_folder.iterdir()) == [".csv", ".json"]
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body and "“leads.csv”" in body
    assert "4 rows, 5 columns" in body  # the blank row is left out
    assert [_selected(body, i) for i in range(5)] == [
        "email",
        "first_name",
        "last_name",
        "data:company",
        "",
    ]
    assert "ada@example.com · known@example.com · not-an-email" in body  # first values


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("Email address", "email"),
        ("PHONE NUMBER", "phone"),
        ("mobile", "phone"),
        ("Surname", "last_name"),
        ("full name", "name"),
        ("utm_campaign", "utm_campaign"),
        ("Opt-in", "opt_in"),
        ("team_size", "data:team_size"),
        ("Size of team", "data:team_size"),
        ("created_at", ""),
    ],
)
def test_guessing_reads_headers_loosely(header, target):
    point = factories.data_point(factories.workspace(), "team_size", label="Size of team")

    assert lead_import.guess_mapping([header], [point]) == [target]


def test_a_field_is_guessed_for_the_first_column_only():
    assert lead_import.guess_mapping(["Email", "E-mail"], []) == ["email", ""]


def test_semicolons_a_bom_and_windows_1252_are_read(client, auth):
    _world(auth)
    text = "\ufeffE-mail;Prénom\nzoë@example.com;Zoë\n"

    utf8 = client.get(f"/p/leads/import/{_token(_upload(client, text))}")
    cp1252 = client.get(f"/p/leads/import/{_token(_upload(client, text[1:].encode('cp1252')))}")

    for page in (utf8, cp1252):
        body = page.get_data(as_text=True)
        assert "Prénom" in body and "zoë@example.com" in body and _selected(body, 0) == "email"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty"),
        ("email\n\n", "has no rows to import"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (b"email\nada@example.com\x00\n", "not text"),
        ('email,name\n"unclosed,Ada\n', "not valid CSV"),
    ],
)
def test_files_that_cannot_be_imported_say_why(client, auth, content, message):
    _sign_in(auth)

    response = _upload(client, content)

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'id="file-error"' in body


def test_size_and_row_limits_are_clear(client, auth, monkeypatch):
    _sign_in(auth)
    monkeypatch.setattr(lead_import, "MAX_ROWS", 3)
    rows = _upload(client, "email\n" + "".join(f"u{n}@example.com\n" for n in range(4)))
    monkeypatch.setattr(lead_import, "MAX_BYTES", 100)
    size = _upload(client, "email\n" + "x" * 200)

    assert rows.status_code == 422 and "more than 3 rows" in rows.get_data(as_text=True)
    assert size.status_code == 422 and "can be imported at once" in size.get_data(as_text=True)


def test_no_file_is_refused(client, auth):
    _sign_in(auth)
    token = csrf_token(client, "/p/leads/import")

    response = client.post("/p/leads/import", data={"csrf_token": token})

    assert response.status_code == 422 and "Choose a CSV file" in response.get_data(as_text=True)


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
    assert "E-mail: An email address must have an @-sign." in body
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
    assert "E-mail: An email address must have an @-sign." in rejected
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
    assert sorted(p.suffix for p in import_folder.iterdir()) == [".json", ".jsonl", ".lock"]
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
        "4,not-an-email,Bad,Row,,,E-mail: An email address must have an @-sign."
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


@pytest.mark.parametrize("step", ["", "/report", "/rejected.csv"])
def test_another_workspaces_import_is_not_found(client, auth, step):
    other = factories.workspace()
    job = lead_import.save_upload(other.id, "usr_x", "theirs.csv", b"email\na@example.com\n")
    _sign_in(auth)

    assert client.get(f"/p/leads/import/{job.token}{step}").status_code == 404
    assert client.get(f"/p/leads/import/..%2F..%2Fsecret{step}").status_code == 404


@pytest.mark.parametrize("step", ["preview", "run", "continue"])
def test_another_workspaces_import_cannot_be_run(client, auth, step):
    other = factories.workspace()
    job = lead_import.save_upload(other.id, "usr_x", "theirs.csv", b"email\na@example.com\n")
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(client, job.token, step, {"funnel": funnel.id, "column-0": "email"})

    assert response.status_code == 404
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_files_older_than_a_day_are_swept(client, auth, import_folder):
    ws = _sign_in(auth)
    old = lead_import.save_upload(ws.id, "usr_x", "old.csv", b"email\na@example.com\n")
    day_ago = time.time() - lead_import.KEEP_SECONDS - 60
    for path in import_folder.glob(f"{old.token}.*"):
        os.utime(path, (day_ago, day_ago))

    _upload(client, "email\nb@example.com\n")

    assert not list(import_folder.glob(f"{old.token}.*"))
    assert client.get(f"/p/leads/import/{old.token}").status_code == 404
