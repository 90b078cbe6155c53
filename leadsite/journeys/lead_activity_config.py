"""What staff set on the lead's front-office activities (upload, sign, video, booking), checked
when the activity is saved, and how the journey page reads it. See `lead_activities` for what the
lead does with them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from leadsite import values
from leadsite.journeys.uploads import MAX_UPLOAD_BYTES
from leadsite.models import ActivityKind

LEAD_KINDS = (ActivityKind.UPLOAD, ActivityKind.SIGN, ActivityKind.VIDEO, ActivityKind.BOOKING)
# Besides staff tasks, what staff may mark done by hand on the lead page.
MARKED_DONE_BY_STAFF = (ActivityKind.BOOKING,)
DEFAULT_CONSENT = "I have read the text above and I agree to it."
MAX_FILES = 20
MAX_SIGN_TEXT = 20_000
EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")
VIDEO_FILE = re.compile(r"\.(mp4|webm|ogv|ogg|mov)$", re.I)
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")


# ---- Config: what staff may set, checked when the activity is saved ----


def config_problems(kind: str, config: dict[str, Any]) -> list[str]:
    """Every problem with a lead activity's config, as `name: problem` sentences."""
    if kind not in LEAD_KINDS:
        return []
    problems = []
    if kind == ActivityKind.UPLOAD:
        accept = config.get("accept", [])
        if not isinstance(accept, list) or not all(
            isinstance(item, str) and EXTENSION.match(item) for item in accept
        ):
            problems.append("accept: file extensions are letters and digits, like pdf or jpg")
        limits = (("max_mb", 1, MAX_UPLOAD_BYTES // 2**20), ("min_files", 1, MAX_FILES))
        for name, low, high in limits:
            number = config.get(name, low)
            if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
                problems.append(f"{name}: must be a whole number from {low} to {high}")
    if kind == ActivityKind.SIGN:
        text = config.get("text")
        if not isinstance(text, str) or not text.strip():
            problems.append("text: enter the text the lead signs")
        elif len(text) > MAX_SIGN_TEXT:
            problems.append(f"text: must be at most {MAX_SIGN_TEXT} characters")
    for name in ("description", "consent"):
        if not isinstance(config.get(name, ""), str) or len(config.get(name, "")) > 2000:
            problems.append(f"{name}: must be a text of at most 2000 characters")
    if kind != ActivityKind.UPLOAD:
        name = "document_url" if kind == ActivityKind.SIGN else "url"
        problem = https_problem(config.get(name), required=kind != ActivityKind.SIGN)
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


def https_problem(value: Any, required: bool) -> str | None:
    if value in (None, ""):
        return "enter an https:// address" if required else None
    try:
        parsed = values.parse_url(str(value))
    except values.Invalid as error:
        return f"the address {error}"
    return None if parsed.scheme == "https" else "the address must start with https://"


# ---- What the lead sees ----


def sign_text(config: dict[str, Any]) -> str:
    return str(config.get("text") or "")


def text_hash(text: str) -> str:
    """The SHA-256 of exactly the text shown (UTF-8)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Video:
    """How a video URL is shown: `embed` in a frame, `file` in a player, or a `link`."""

    how: str
    src: str
    origin: str


def https_url(value: Any) -> str | None:
    """A stored https URL fit to link to, else None."""
    parsed = values.stored_url(value if isinstance(value, str) else None)
    return parsed.text if parsed is not None and parsed.scheme == "https" else None


def video(url: Any) -> Video | None:
    parsed = values.stored_url(url if isinstance(url, str) else None)
    if parsed is None or parsed.scheme != "https":
        return None
    host = parsed.host.removeprefix("www.").removeprefix("m.")
    youtube = "https://www.youtube-nocookie.com"
    if host == "youtube.com" and parsed.path == "/watch":
        ids = parse_qs(parsed.query).get("v", [""])
        if YOUTUBE_ID.match(ids[0]):
            return Video("embed", f"{youtube}/embed/{ids[0]}", youtube)
    if host in ("youtube.com", "youtube-nocookie.com") and parsed.path.startswith("/embed/"):
        video_id = parsed.path.removeprefix("/embed/")
        if YOUTUBE_ID.match(video_id):
            return Video("embed", f"{youtube}/embed/{video_id}", youtube)
    if host == "youtu.be" and YOUTUBE_ID.match(parsed.path.lstrip("/")):
        return Video("embed", f"{youtube}/embed/{parsed.path.lstrip('/')}", youtube)
    vimeo = "https://player.vimeo.com"
    if host == "vimeo.com" and parsed.path.lstrip("/").isdigit():
        return Video("embed", f"{vimeo}/video/{parsed.path.lstrip('/')}", vimeo)
    if host == "player.vimeo.com" and parsed.path.startswith("/video/"):
        return Video("embed", parsed.text, vimeo)
    if VIDEO_FILE.search(parsed.path):
        return Video("file", parsed.text, parsed.origin)
    return Video("link", parsed.text, parsed.origin)
