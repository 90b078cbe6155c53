"""`Idempotency-Key`: a repeat with the same key and body within 24 h gets the first response."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask import Request, make_response
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import IdempotencyRecord, utcnow

LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"


def request_fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode()):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def replay(api_key_id: str, key: str, fingerprint: str) -> Response | None:
    """The stored response for this key, a 422 if the key came with another body, or None."""
    record = db.session.scalar(
        db.select(IdempotencyRecord).filter_by(api_key_id=api_key_id, key=key)
    )
    if record is None:
        return None
    if utcnow() - record.created_at > LIFETIME:
        db.session.delete(record)
        db.session.commit()
        return None
    if record.request_hash != fingerprint:
        return api_error(
            422,
            f"This {HEADER} was already used with another request",
            "IDEMPOTENCY_KEY_REUSED",
            {"field": HEADER, "value": key, "message": "Use a new key for a different request"},
        )
    response = make_response(json.dumps(record.response_body), record.status_code)
    response.mimetype = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remember(api_key_id: str, key: str, fingerprint: str, response: Response) -> None:
    """Store the first final response; a concurrent twin that stored first wins, harmlessly.

    Rate-limited and server-error responses are not final: a retry may succeed.
    """
    if response.status_code >= 500 or response.status_code == 429:
        return
    db.session.add(
        IdempotencyRecord(
            api_key_id=api_key_id,
            key=key,
            request_hash=fingerprint,
            status_code=response.status_code,
            response_body=response.get_json(),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
