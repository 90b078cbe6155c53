"""What the journey page shows for the lead's upload, sign, video and booking steps, and the
sources its CSP lets a video come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response, g, url_for

from leadsite.extensions import db
from leadsite.journeys.lead_activities import step_files
from leadsite.journeys.lead_activity_config import (
    DEFAULT_CONSENT,
    LEAD_KINDS,
    Video,
    https_url,
    sign_text,
    text_hash,
    video,
)
from leadsite.journeys.uploads import accepted
from leadsite.models import Journey, JourneyFile, JourneyStep, StepStatus
from leadsite.security import content_security_policy, csp_nonce

CSP = "Content-Security-Policy"


@dataclass
class StepPanel:
    """One lead step's settings as the page shows them (`public/steps/<kind>.html`)."""

    kind: str
    due: bool
    description: str = ""
    # upload
    files: list[JourneyFile] = field(default_factory=list)
    accept: tuple[str, ...] = ()
    max_mb: int = 10
    min_files: int = 1
    # sign
    text: str = ""
    text_sha256: str = ""
    consent: str = DEFAULT_CONSENT
    document_url: str | None = None
    # video, booking
    video: Video | None = None
    url: str | None = None

    @property
    def accept_attribute(self) -> str:
        return ",".join(f".{item}" for item in self.accept)


def step_panels(journey: Journey) -> dict[str, StepPanel]:
    """The panels of the journey's lead steps, by step id."""
    steps = db.session.scalars(
        db.select(JourneyStep).filter(
            JourneyStep.journey_id == journey.id, JourneyStep.kind.in_(LEAD_KINDS)
        )
    )
    return {step.id: _panel(step) for step in steps}


def _panel(step: JourneyStep) -> StepPanel:
    config: dict[str, Any] = dict(step.activity.config or {}) if step.activity else {}
    description = str(config.get("description") or "")
    panel = StepPanel(step.kind, step.status == StepStatus.DUE, description)
    if step.kind == "upload":
        panel.files = step_files(step)
        panel.accept, limit = accepted(config)
        panel.max_mb = max(1, limit // 2**20)
        min_files = config.get("min_files")
        panel.min_files = min_files if isinstance(min_files, int) and min_files > 0 else 1
    elif step.kind == "sign":
        panel.text = sign_text(config)
        panel.text_sha256 = text_hash(panel.text)
        panel.consent = str(config.get("consent") or DEFAULT_CONSENT)
        panel.document_url = https_url(config.get("document_url"))
    elif step.kind == "video":
        panel.video = video(config.get("url"))
    elif step.kind == "booking":
        panel.url = https_url(config.get("url"))
    return panel


def booking_return_url(token: str, step_id: str) -> str:
    """Where the scheduler sends the lead back to: it marks the booking step done."""
    return url_for("public.journey_step_booked", token=token, step_id=step_id, _external=True)


def allow_videos(response: Response, panels: dict[str, StepPanel]) -> Response:
    """Let the page frame (or play) the videos its due video steps show, and nothing else."""
    shown = [panel.video for panel in panels.values() if panel.due and panel.video]
    frames = sorted({video.origin for video in shown if video.how == "embed"})
    media = sorted({video.origin for video in shown if video.how == "file"})
    if not frames and not media:
        return response
    policy = response.headers.get(CSP) or content_security_policy(
        csp_nonce(), g.get("frame_ancestors")
    )
    if frames:
        policy += "; frame-src " + " ".join(frames)
    if media:
        policy += "; media-src 'self' " + " ".join(media)
    response.headers[CSP] = policy
    return response
