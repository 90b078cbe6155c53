"""What an upload's content may be, for the extension of its name (journeys.uploads)."""

from __future__ import annotations

import io
import zipfile

import pytest

from leadsite.journeys.uploads import _content_is

ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 60
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 50


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as document:
        document.writestr("[Content_Types].xml", "<Types/>")
        document.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("extension", "content"),
    [
        ("pdf", b"%PDF-1.7 ..."),
        ("png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
        ("jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("jpeg", b"\xff\xd8\xff\xe1" + b"\x00" * 20),
        ("docx", _docx()),
        ("txt", b"Plain notes, ID3 tags and all"),
        ("heic", b"\x00\x00\x00\x18ftypmif1"),  # no signature required: kept on its name
        ("csv", b"email,first_name\nada@example.com,Ada\n"),  # a format staff added
    ],
)
def test_content_that_can_be_what_its_name_says_is_kept(extension, content):
    assert _content_is(extension, content)


@pytest.mark.parametrize(
    ("extension", "content"),
    [
        ("pdf", WINDOWS_PROGRAM),
        ("txt", WINDOWS_PROGRAM),
        ("csv", ELF),
        ("pdf", b"not a pdf at all"),
        ("png", b"%PDF-1.4"),
        ("jpg", b"GIF89a" + b"\x00" * 20),
        ("docx", b"%PDF-1.4"),
    ],
)
def test_content_that_is_not_what_its_name_says_is_refused(extension, content):
    assert not _content_is(extension, content)


def test_a_program_is_kept_only_under_its_own_name():
    assert _content_is("exe", WINDOWS_PROGRAM)  # an activity that asks for programs gets them
