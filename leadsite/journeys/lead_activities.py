"""The lead's front-office activities beyond filling data points: what each accepts and records.

Config, by kind (`Activity.config`):

- `upload`: `accept` (extensions, e.g. `["pdf", "jpg"]`; default `uploads.DEFAULT_ACCEPT`),
  `max_mb` (1 to 10), `min_files` (default 1), `description`. Done once `min_files` files are in.
- `sign`: `text` (plain text the lead reads), `consent` (the sentence they tick; a default),
  optional `document_url` (a document to read beside the text; only the text is hashed).
- `video`: `url` (https: YouTube and Vimeo links play embedded, a .mp4/.webm file in a player,
  anything else opens in a new tab), `description`. Done when the lead marks it watched.
- `booking`: `url` (an external scheduler, https), `description`. The click out is recorded; done
  when the lead comes back (`return_url`), says they booked, or staff mark it done.

Every completion's `result` says by whom, when, from which IP and user agent. Functions flush,
never commit; they lock the lead and the journey (`lock_journey`) before their first write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from leadsite.extensions import db
from leadsite.journeys.engine import StepNotOpen, complete_step, lock_journey
from leadsite.journeys.lead_activity_config import (
    DEFAULT_CONSENT,
    MAX_FILES,
    sign_text,
    text_hash,
)
from leadsite.journeys.uploads import UploadRefused, UploadTooLarge, store_upload
from leadsite.models import Journey, JourneyFile, JourneyStep, Signature, StepStatus, utcnow
from leadsite.representations import iso

MIN_NAME, MAX_NAME = 2, 200


class LeadActionRefused(Exception):
    """What the lead sent cannot be taken: `field` is the input it is about, `status` the
    HTTP status that says so."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class Client:
    """Where an action came from: kept with what was done, as evidence."""

    ip: str | None
    user_agent: str | None

    def record(self) -> dict[str, Any]:
        return {"by": "lead", "at": iso(utcnow()), "ip": self.ip, "user_agent": self.user_agent}


def step_files(step: JourneyStep) -> list[JourneyFile]:
    return list(
        db.session.scalars(
            db.select(JourneyFile)
            .filter_by(step_id=step.id, journey_id=step.journey_id)
            .order_by(JourneyFile.created_at, JourneyFile.id)
        )
    )


# ---- What the lead does ----


def add_uploads(
    journey: Journey, step: JourneyStep, uploads: list[FileStorage], client: Client
) -> list[JourneyFile]:
    """Keep every file, or none when one is refused (`LeadActionRefused` on `file`, 413 for
    size); the step is done once `min_files` are in."""
    config = _config(step)
    uploads = [upload for upload in uploads if upload.filename]
    if not uploads:
        raise LeadActionRefused("file", _("Choose a file to upload."))
    lock_journey(journey)
    if step.status != StepStatus.DUE:
        raise StepNotOpen()
    kept = step_files(step)
    if len(kept) + len(uploads) > MAX_FILES:
        raise LeadActionRefused(
            "file", _("At most %(count)s files can be uploaded here.", count=MAX_FILES)
        )
    stored = []
    for upload in uploads:
        try:
            stored.append(
                store_upload(
                    upload,
                    journey=journey,
                    step=step,
                    config=config,
                    uploaded_by="lead",
                    ip=client.ip,
                    user_agent=client.user_agent,
                )
            )
        except UploadRefused as error:
            message = str(error)
            status = 413 if isinstance(error, UploadTooLarge) else 422
            named = f"{upload.filename}: {message}" if len(uploads) > 1 else message
            raise LeadActionRefused("file", named, status) from None
    db.session.flush()
    files = kept + stored
    if len(files) >= _min_files(config):
        names = [{"id": f.id, "filename": f.filename, "sha256": f.sha256} for f in files]
        complete_step(step, result={**client.record(), "files": names})
    return stored


def sign(
    journey: Journey,
    step: JourneyStep,
    name: str,
    consented: bool,
    shown_hash: str,
    client: Client,
) -> Signature:
    """Record the lead's signature of the step's text and complete the step. The hash the page
    showed must be the text's now: a text changed since the page opened was not what they read."""
    config = _config(step)
    typed = " ".join(name.split())
    if len(typed) < MIN_NAME:
        raise LeadActionRefused("name", _("Type your full name to sign."))
    if len(typed) > MAX_NAME:
        raise LeadActionRefused(
            "name", _("Your name must be at most %(count)s characters.", count=MAX_NAME)
        )
    if not consented:
        raise LeadActionRefused("consent", _("Tick the box to agree, or you cannot sign."))
    text = sign_text(config)
    digest = text_hash(text)
    if shown_hash != digest:
        raise LeadActionRefused(
            "text",
            _("The text changed since you opened this page: read it again, then sign."),
            409,
        )
    lock_journey(journey)
    if step.status != StepStatus.DUE:  # signed meanwhile: one signature a step
        raise StepNotOpen()
    consent = str(config.get("consent") or DEFAULT_CONSENT)
    signature = Signature(
        workspace_id=journey.workspace_id,
        lead_id=journey.lead_id,
        journey_id=journey.id,
        step_id=step.id,
        name=typed,
        text_sha256=digest,
        consent=consent,
        ip=client.ip,
        user_agent=(client.user_agent or "")[:300] or None,
    )
    db.session.add(signature)
    db.session.flush()
    result = {**client.record(), "signature_id": signature.id, "name": typed}
    result |= {"text": text, "text_sha256": digest, "consent": consent}
    if config.get("document_url"):
        result["document_url"] = config["document_url"]
    complete_step(step, result=result)
    return signature


def mark_watched(journey: Journey, step: JourneyStep, client: Client) -> None:
    url = _config(step).get("url")
    complete_step(step, result={**client.record(), "watched": True, "url": url})


def booking_clicked(journey: Journey, step: JourneyStep, client: Client) -> None:
    """Remember that the lead went to the scheduler (the step stays due)."""
    lock_journey(journey)
    if step.status != StepStatus.DUE:
        return
    clicks = list((step.result or {}).get("clicks", []))[-9:]
    step.result = {"clicks": [*clicks, {"at": iso(utcnow()), "ip": client.ip}]}
    db.session.flush()


def booked(journey: Journey, step: JourneyStep, client: Client, how: str) -> None:
    """Complete a booking step: `how` is `returned` (back from the scheduler) or `said`."""
    clicks = (step.result or {}).get("clicks", [])
    complete_step(step, result={**client.record(), "booked": how, "clicks": clicks})


def _config(step: JourneyStep) -> dict[str, Any]:
    return dict(step.activity.config or {}) if step.activity is not None else {}


def _min_files(config: dict[str, Any]) -> int:
    number = config.get("min_files", 1)
    return number if isinstance(number, int) and 1 <= number <= MAX_FILES else 1
