"""The lead uploads documents on their journey page; staff download them from the lead page."""

from __future__ import annotations

import io

import pytest
import requests

from leadsite.extensions import db
from leadsite.models import JourneyFile, Role, StepStatus
from leadsite.public.tokens import journey_action_token
from tests import factories
from tests.public.lead_steps import lead_journey, post_step, step

PDF = b"%PDF-1.4 front side"
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50


def _upload(client, journey, *files: tuple[bytes, str]):
    data = {"file": [(io.BytesIO(content), name) for content, name in files]}
    return post_step(client, journey, "Your ID", "upload", data, content_type="multipart/form-data")


def _stored() -> list[JourneyFile]:
    return list(db.session.scalars(db.select(JourneyFile).order_by(JourneyFile.filename)))


def test_uploads_are_kept_and_the_step_is_done_once_enough_are_in(client):
    journey = lead_journey()

    first = _upload(client, journey, (PDF, "front.pdf"))

    assert first.status_code == 303 and "saved" not in first.headers["Location"]
    assert step(journey, "Your ID").status == StepStatus.DUE  # two are needed
    page = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Thank you: that is done." not in page
    assert "front.pdf" in page and "1 of 2 uploaded" in page
    assert 'accept=".pdf,.png"' in page and 'enctype="multipart/form-data"' in page

    second = _upload(client, journey, (b"\x89PNG back", "Back Side.PNG"))

    assert second.status_code == 303 and second.headers["Location"].endswith("?saved=1")
    done = step(journey, "Your ID")
    assert done.status == StepStatus.DONE
    assert done.result["ip"] == "203.0.113.7" and done.result["user_agent"] == "Probe/1.0"
    assert [f["filename"] for f in done.result["files"]] == ["front.pdf", "Back_Side.PNG"]
    files = _stored()
    assert [(f.filename, f.size, f.uploaded_by, f.ip) for f in files] == [
        ("Back_Side.PNG", 9, "lead", "203.0.113.7"),
        ("front.pdf", len(PDF), "lead", "203.0.113.7"),
    ]
    assert files[1].content == PDF and files[1].content_type == "application/pdf"


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        (
            [(PDF, "setup.exe")],
            422,
            "This type of file is not accepted here. Upload one of: .pdf, .png.",
        ),
        ([(b"", "empty.pdf")], 422, "The file is empty."),
        ([], 422, "Choose a file to upload."),
        ([(PDF, "ok.pdf"), (PDF, "bad.doc")], 422, "bad.doc: This type of file is not accepted"),
        # Names that lie about the content (found from outside: a program named .pdf was kept)
        (
            [(WINDOWS_PROGRAM, "invoice.pdf")],
            422,
            "The file&#39;s content is not a .pdf file. Upload the document itself.",
        ),
        ([(b"just some text", "scan.png")], 422, "The file&#39;s content is not a .png file."),
        ([(PDF, "ok.pdf"), (PDF, "photo.png")], 422, "photo.png: The file&#39;s content is not"),
    ],
)
def test_a_refused_upload_keeps_nothing_and_says_why_on_the_field(client, files, status, message):
    journey = lead_journey()

    response = (
        _upload(client, journey, *files)
        if files
        else post_step(client, journey, "Your ID", "upload", content_type="multipart/form-data")
    )

    body = response.get_data(as_text=True)
    assert response.status_code == status
    assert message in body
    assert 'class="field invalid"' in body and 'aria-invalid="true" autofocus' in body
    assert _stored() == []
    assert step(journey, "Your ID").status == StepStatus.DUE


@pytest.mark.parametrize(
    ("size", "message"),
    [
        (1024 * 1024 + 1, "The file is larger than 1 MB."),  # the activity's limit
        (
            11 * 1024 * 1024,
            "That is more than 10 MB: upload a smaller file, or fewer files at a time.",
        ),  # the body's
    ],
)
def test_a_file_too_large_is_refused_through_a_real_server(live_server, size, message):
    """Through HTTP: the test client leaves the temporary file of a large body open."""
    journey = lead_journey()
    path = f"/j/{journey.access_token}/steps/{step(journey, 'Your ID').id}/upload"

    response = requests.post(
        live_server + path,
        data={"_token": journey_action_token(journey.id)},
        files={"file": ("huge.pdf", b"%PDF" + b"0" * size)},
        timeout=30,
    )

    assert response.status_code == 413
    assert message in response.text
    assert "<h1>Onboarding</h1>" in response.text  # the journey page, not an error page
    assert 'aria-invalid="true"' in response.text
    assert _stored() == []


def test_another_kind_of_step_takes_no_upload(client):
    journey = lead_journey()

    response = post_step(
        client,
        journey,
        "The contract",
        "upload",
        {"file": (io.BytesIO(PDF), "a.pdf")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 409 and "That task cannot be done now." in response.text
    assert _stored() == []


def test_staff_download_the_lead_s_files_from_the_lead_page(client, auth):
    ws = factories.workspace()
    auth.login(factories.user(ws, role=Role.MANAGER).email)
    journey = lead_journey(ws)
    _upload(client, journey, (PDF, "front.pdf"))
    stored = _stored()[0]

    page = client.get(f"/p/leads/{journey.lead_id}").get_data(as_text=True)
    download = client.get(f"/p/leads/{journey.lead_id}/files/{stored.id}")

    assert "Uploaded files" in page and f"/p/leads/{journey.lead_id}/files/{stored.id}" in page
    assert stored.sha256 in page
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"] == 'attachment; filename="front.pdf"'
    assert download.headers["Content-Type"] == "application/pdf"


def test_another_workspace_cannot_download_a_file(client, auth):
    journey = lead_journey()
    _upload(client, journey, (PDF, "front.pdf"))
    stored = _stored()[0]
    auth.login(factories.user(factories.workspace()).email)

    assert client.get(f"/p/leads/{journey.lead_id}/files/{stored.id}").status_code == 404
