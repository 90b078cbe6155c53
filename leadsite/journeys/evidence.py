"""What a lead left on its journeys as evidence, for staff: uploaded files and signatures, with
what was signed, when and from where."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadsite.extensions import db
from leadsite.models import JourneyFile, JourneyStep, Lead, Signature


@dataclass
class SignedText:
    signature: Signature
    text: str | None  # as the step's result kept it: what the lead was shown


@dataclass
class JourneyEvidence:
    files: list[JourneyFile] = field(default_factory=list)
    signatures: list[SignedText] = field(default_factory=list)


def journey_evidence(lead: Lead) -> dict[str, JourneyEvidence]:
    """The lead's files and signatures, by journey id (content not loaded)."""
    found: dict[str, JourneyEvidence] = {}
    files = db.session.scalars(
        db.select(JourneyFile)
        .filter_by(lead_id=lead.id, workspace_id=lead.workspace_id)
        .order_by(JourneyFile.created_at, JourneyFile.id)
    )
    for item in files:
        found.setdefault(item.journey_id, JourneyEvidence()).files.append(item)
    rows = db.session.execute(
        db.select(Signature, JourneyStep.result)
        .outerjoin(JourneyStep, JourneyStep.id == Signature.step_id)
        .filter(Signature.lead_id == lead.id, Signature.workspace_id == lead.workspace_id)
        .order_by(Signature.signed_at, Signature.id)
    )
    for signature, result in rows:
        text = _signed_text(signature, result)
        found.setdefault(signature.journey_id, JourneyEvidence()).signatures.append(
            SignedText(signature, text)
        )
    return found


def _signed_text(signature: Signature, result: dict[str, Any] | None) -> str | None:
    """The text kept on the step, if it is the one whose hash the signature holds."""
    result = result or {}
    if result.get("signature_id") != signature.id or result.get("text_sha256") != (
        signature.text_sha256
    ):
        return None
    text = result.get("text")
    return text if isinstance(text, str) else None
