"""Storing a document uploaded on a journey step, by the lead or a stakeholder.

Files are kept in the database (`JourneyFile.content`), so every web host serves them and
erasing the lead removes them with its rows. An activity chooses what it accepts (`config`):
`"accept"`, a list of file extensions (default `DEFAULT_ACCEPT`), and `"max_mb"`, at most
`MAX_UPLOAD_BYTES` (10 MB). Views that take uploads raise their request's
`max_content_length` to `UPLOAD_REQUEST_BYTES` for the one request.

The name's extension is checked against the content too (`filetype`, magic numbers): a program
is never kept whatever its name, and a format that always starts with its signature (PDF, the
common images, Office's zip-based documents) must have it. Other names (`.txt`, `.heic`, a
format staff added) are kept unless their content is a program: refusing them on a guess would
turn away real documents.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import PurePosixPath
from typing import Any

import filetype
from flask_babel import format_number
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from leadsite.extensions import db
from leadsite.models import Journey, JourneyFile, JourneyStep

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOAD_REQUEST_BYTES = MAX_UPLOAD_BYTES + 256 * 1024  # the file and the form around it
DEFAULT_ACCEPT = ("pdf", "png", "jpg", "jpeg", "gif", "webp", "heic", "doc", "docx", "txt")
# What `filetype` may find in a file named with each extension whose format has a signature.
OFFICE_ZIP = {"docx", "xlsx", "pptx", "zip"}  # a zip whose parts filetype may not recognize
SIGNED = {
    "pdf": {"pdf"},
    "png": {"png", "apng"},
    "jpg": {"jpg"},
    "jpeg": {"jpg"},
    "gif": {"gif"},
    "webp": {"webp"},
    "docx": OFFICE_ZIP,
    "xlsx": OFFICE_ZIP,
    "pptx": OFFICE_ZIP,
}
# Content never kept under another name: programs (Windows, Linux, WebAssembly, browser
# extensions, Flash).
PROGRAMS = {"exe", "elf", "wasm", "crx", "swf"}


class UploadRefused(Exception):
    """The file cannot be kept: the message says why, for the person who sent it (in their
    language: the messages go through Flask-Babel)."""


class UploadTooLarge(UploadRefused):
    """A file over the activity's size limit (HTTP 413)."""


def accepted(config: dict[str, Any]) -> tuple[tuple[str, ...], int]:
    """The extensions (lower case, no dot) and the size in bytes an activity accepts."""
    accept = config.get("accept") or DEFAULT_ACCEPT
    extensions = tuple(str(item).lower().lstrip(".") for item in accept if str(item).strip())
    max_mb = config.get("max_mb")
    limit = MAX_UPLOAD_BYTES
    if isinstance(max_mb, int | float) and not isinstance(max_mb, bool) and max_mb > 0:
        limit = min(int(max_mb * 1024 * 1024), MAX_UPLOAD_BYTES)
    return extensions or DEFAULT_ACCEPT, limit


def store_upload(
    upload: FileStorage | None,
    *,
    journey: Journey,
    step: JourneyStep | None,
    config: dict[str, Any],
    uploaded_by: str,
    uploader: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> JourneyFile:
    """Check the file against the activity's config and add it to the session (not flushed).
    Raises `UploadRefused` for no file, an empty one, a type not accepted or one too large."""
    if upload is None or not upload.filename:
        raise UploadRefused(_("Choose a file to upload."))
    extensions, limit = accepted(config)
    name = secure_filename(upload.filename) or "upload"
    extension = PurePosixPath(name).suffix.lower().lstrip(".")
    if extension not in extensions:
        listed = ", ".join(f".{item}" for item in extensions)
        raise UploadRefused(
            _("This type of file is not accepted here. Upload one of: %(types)s.", types=listed)
        )
    content = upload.stream.read(limit + 1)
    if not content:
        raise UploadRefused(_("The file is empty."))
    if len(content) > limit:
        raise UploadTooLarge(
            _("The file is larger than %(size)s MB.", size=format_number(limit // (1024 * 1024)))
        )
    if not _content_is(extension, content):
        raise UploadRefused(
            _(
                "The file's content is not a .%(extension)s file. Upload the document itself.",
                extension=extension,
            )
        )
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    stored = JourneyFile(
        workspace_id=journey.workspace_id,
        lead_id=journey.lead_id,
        journey_id=journey.id,
        step_id=step.id if step is not None else None,
        filename=name[:255],
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=uploaded_by,
        uploader=uploader,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    db.session.add(stored)
    return stored


def _content_is(extension: str, content: bytes) -> bool:
    """Whether `content` can be what a file named `.extension` holds (see the module's
    docstring): its signature where the format has one, and never a program under another
    name."""
    found = filetype.guess_extension(content)
    if found in PROGRAMS and found != extension:
        return False
    expected = SIGNED.get(extension)
    return expected is None or found in expected
