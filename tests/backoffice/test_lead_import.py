"""CSV import: upload, guessed mapping, preview, run through the pipeline, report."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.leads.imports import upload as lead_import
from leadsite.models import (
    ImportStatus,
    Lead,
    LeadImport,
    LeadImportChunk,
    Role,
    Workspace,
    utcnow,
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


def test_an_upload_is_kept_in_the_database_and_its_columns_guessed(client, auth):
    _world(auth)

    token = _token(_upload(client, SAMPLE))
    page = client.get(f"/p/leads/import/{token}")

    job = db.session.get(LeadImport, token)
    assert job.row_count == 4 and job.status == ImportStatus.UPLOADED
    [chunk] = db.session.scalars(db.select(LeadImportChunk).filter_by(import_id=token))
    assert chunk.row_count == 4 and chunk.data.startswith("2,ada@example.com,Ada,")
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
        ("email\nada@example.com\n".encode("utf-16") + b"\x00", "damaged"),  # odd length
        (b"\xff\xfe" + "email\n".encode("utf-16-le") + b"\x00\xd8a\x00\n\x00", "damaged"),
        (b"\xfe\xff" + "email\n".encode("utf-16-be") + b"\xdc\x00\x00a", "damaged"),
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
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)  # the limit is met after chunks are kept
    monkeypatch.setattr(lead_import, "MAX_ROWS", 3)
    rows = _upload(client, "email\n" + "".join(f"u{n}@example.com\n" for n in range(4)))
    monkeypatch.setattr(lead_import, "MAX_BYTES", 100)
    size = _upload(client, "email\n" + "x" * 200)

    assert rows.status_code == 422 and "more than 3 rows" in rows.get_data(as_text=True)
    assert size.status_code == 422 and "can be imported at once" in size.get_data(as_text=True)
    # Nothing of a refused file is kept.
    assert db.session.scalar(db.select(db.func.count(LeadImport.id))) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(LeadImportChunk)) == 0


def test_a_file_over_the_row_limit_is_refused_before_any_row_is_stored(client, auth, monkeypatch):
    _sign_in(auth)
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 2)
    monkeypatch.setattr(lead_import, "MAX_ROWS", 3)
    stored = []
    write_chunk = lead_import._write_chunk
    monkeypatch.setattr(
        lead_import, "_write_chunk", lambda *args: stored.append(args[1]) or write_chunk(*args)
    )

    over = _upload(client, "email\n" + "".join(f"u{n}@example.com\n" for n in range(4)))

    assert over.status_code == 422 and "more than 3 rows" in over.get_data(as_text=True)
    assert stored == []


def test_more_lines_than_the_row_limit_in_quoted_cells_and_blank_lines_are_not_rows(
    client, auth, monkeypatch
):
    _sign_in(auth)
    monkeypatch.setattr(lead_import, "MAX_ROWS", 3)
    content = 'email,note\na@example.com,"one\ntwo\nthree"\n\n\nb@example.com,x\nc@example.com,y\n'

    response = _upload(client, content)

    assert response.status_code == 303, response.get_data(as_text=True)
    job = db.session.scalar(db.select(LeadImport))
    assert job.row_count == 3


def test_the_real_limits_are_200_mb_and_two_million_rows():
    assert lead_import.MAX_BYTES == 200 * 1024 * 1024 and lead_import.MAX_ROWS == 2_000_000


def test_a_file_larger_than_a_read_block_is_read_whole(client, auth, monkeypatch):
    """Rows cut by the blocks the stream is read in, quoted newlines, and chunks."""
    _sign_in(auth)
    monkeypatch.setattr(lead_import, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(lead_import, "READ_BYTES", 4093)  # a prime: blocks end anywhere
    lines = [f'u{n}@example.com,"Line one\r\nline two {n}",{"x" * 40}\r\n' for n in range(5000)]
    token = _token(_upload(client, "email,note,padding\n" + "".join(lines)))

    job = db.session.get(LeadImport, token)
    read = list(lead_import.rows(job))
    assert job.row_count == 5000 and job.byte_count > 100 * 4093
    assert read[4321] == (2 + 4321, ["u4321@example.com", "Line one\r\nline two 4321", "x" * 40])
    assert db.session.scalar(db.select(db.func.count()).select_from(LeadImportChunk)) == 5


def test_no_file_is_refused(client, auth):
    _sign_in(auth)
    token = csrf_token(client, "/p/leads/import")

    response = client.post("/p/leads/import", data={"csrf_token": token})

    assert response.status_code == 422 and "Choose a CSV file" in response.get_data(as_text=True)


@pytest.mark.parametrize("step", ["", "/report", "/rejected.csv"])
def test_another_workspaces_import_is_not_found(client, auth, step):
    other = factories.workspace()
    job = lead_import.save_upload(other.id, "usr_x", "theirs.csv", b"email\na@example.com\n")
    _sign_in(auth)

    assert client.get(f"/p/leads/import/{job.id}{step}").status_code == 404
    assert client.get(f"/p/leads/import/..%2F..%2Fsecret{step}").status_code == 404


@pytest.mark.parametrize("step", ["preview", "run", "cancel"])
def test_another_workspaces_import_cannot_be_run(client, auth, step):
    other = factories.workspace()
    job = lead_import.save_upload(other.id, "usr_x", "theirs.csv", b"email\na@example.com\n")
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(client, job.id, step, {"funnel": funnel.id, "column-0": "email"})

    assert response.status_code == 404
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_imports_older_than_a_day_are_swept(client, auth):
    ws = _sign_in(auth)
    old = lead_import.save_upload(ws.id, "usr_x", "old.csv", b"email\na@example.com\n")
    old.created_at = utcnow() - timedelta(seconds=lead_import.KEEP_SECONDS + 60)
    db.session.commit()

    _upload(client, "email\nb@example.com\n")

    assert db.session.get(LeadImport, old.id, populate_existing=True) is None
    assert client.get(f"/p/leads/import/{old.id}").status_code == 404
