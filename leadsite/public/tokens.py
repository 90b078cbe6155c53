"""Signed tokens for lead-facing pages: form CSRF, journey actions and confirmation links.

None of them rely on the session cookie (a framed form may not get it): each is signed with the
app's secret and a salt of its own, so a token made for one purpose is refused by every other.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FORM_SALT = "leadsite.public-form"
JOURNEY_SALT = "leadsite.journey-action"
CONFIRM_SALT = "leadsite.confirm"

FORM_TOKEN_MAX_AGE = 24 * 3600  # a form left open longer is sent back with a fresh token
JOURNEY_TOKEN_MAX_AGE = 24 * 3600
CONFIRM_MAX_AGE = 7 * 24 * 3600
NONCE_BYTES = 12


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=salt)


def form_token(ref: str, issued_at: float | None = None) -> str:
    """The CSRF token of an origin's form; it carries when it was issued (the minimum fill time
    is measured from it) and a nonce, recorded when the form is sent so it is sent only once."""
    issued = time.time() if issued_at is None else issued_at
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    return _serializer(FORM_SALT).dumps({"ref": ref, "at": round(issued, 3), "n": nonce})


@dataclass(frozen=True)
class FormToken:
    """A form token we made for this origin and that has not expired."""

    issued_at: float
    nonce: str

    @property
    def age(self) -> float:
        return time.time() - self.issued_at

    @property
    def expires_at(self) -> float:
        return self.issued_at + FORM_TOKEN_MAX_AGE


def read_form_token(token: str, ref: str) -> FormToken | None:
    """The token's issue time and nonce; None when it is not ours, was made for another origin,
    has expired, or predates nonces."""
    try:
        value = _serializer(FORM_SALT).loads(token, max_age=FORM_TOKEN_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("ref") != ref:
        return None
    issued, nonce = value.get("at"), value.get("n")
    if not isinstance(issued, int | float) or not isinstance(nonce, str) or not nonce:
        return None
    read = FormToken(float(issued), nonce[:40])
    return read if read.age <= FORM_TOKEN_MAX_AGE else None


def form_token_age(token: str, ref: str) -> float | None:
    """Seconds since the token was issued for this origin; None when `read_form_token` is."""
    read = read_form_token(token, ref)
    return read.age if read else None


def journey_action_token(journey_id: str) -> str:
    """The CSRF token of the buttons and forms on a journey's page."""
    return _serializer(JOURNEY_SALT).dumps(journey_id)


def journey_action_token_valid(token: str, journey_id: str) -> bool:
    try:
        value = _serializer(JOURNEY_SALT).loads(token, max_age=JOURNEY_TOKEN_MAX_AGE)
    except BadSignature:
        return False
    return value == journey_id


@dataclass(frozen=True)
class ConfirmLink:
    """What a `/confirm/<token>` link names, and whether it is too old to use."""

    lead_id: str
    journey_id: str | None
    expired: bool


def confirm_token(lead_id: str, journey_id: str | None) -> str:
    return _serializer(CONFIRM_SALT).dumps({"lead": lead_id, "journey": journey_id})


def read_confirm_token(token: str) -> ConfirmLink | None:
    """The lead (and journey) a confirmation token names, or None when we did not make it."""
    serializer = _serializer(CONFIRM_SALT)
    expired = False
    value: Any
    try:
        value = serializer.loads(token, max_age=CONFIRM_MAX_AGE)
    except SignatureExpired as error:
        # The signature is good, only old: the lead may still ask for a fresh link.
        expired = True
        value = serializer.load_payload(error.payload) if error.payload is not None else None
    except BadSignature:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("lead"), str):
        return None
    journey_id = value.get("journey")
    return ConfirmLink(value["lead"], journey_id if isinstance(journey_id, str) else None, expired)
