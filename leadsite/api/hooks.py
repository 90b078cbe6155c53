"""`POST /hooks/<ref>/<secret>`: a mapped origin's inbound URL, for senders that post their own
JSON and cannot add our `Authorization` header (form services, ad platforms' lead webhooks)."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from leadsite.api.body import InvalidJSON, read_body
from leadsite.api.dialects.doors import held
from leadsite.api.errors import handle_invalid_json, handle_registration_error, validation_response
from leadsite.api.ingest import note
from leadsite.api.ingest_record import created_status, note_registration
from leadsite.api.mapping import map_payload
from leadsite.errors import api_error
from leadsite.extensions import db, limiter
from leadsite.models import Funnel, Origin, OriginKind, Workspace
from leadsite.registration import RegistrationError, register
from leadsite.representations import journey_summary, lead_dict

bp = Blueprint("hooks", __name__, url_prefix="/hooks")

DIALECT = "hook"
MAX_BODY_BYTES = 64 * 1024
NOT_FOUND = "No such hook"

# The funnel and workspace come in the same query, and `register()` finds them in the session.
ORIGIN_QUERY = (
    db.select(Origin, Funnel, Workspace)
    .join(Origin.funnel)
    .join(Workspace, Workspace.id == Origin.workspace_id)
    .where(Origin.ref == db.bindparam("ref"), Origin.kind == OriginKind.API)
)


def _per_ip_limit() -> str:
    return current_app.config["API_IP_RATE_LIMIT"]


limiter.limit(_per_ip_limit)(bp)


def secret_matches(origin: Origin, secret: str) -> bool:
    """Compared in constant time, so the answer's timing tells nothing of the secret."""
    if not origin.hook_secret:
        return False
    return hmac.compare_digest(origin.hook_secret.encode(), secret.encode())


@bp.post("/<ref>/<secret>")
def receive_hook(ref: str, secret: str) -> Response:
    """Register the lead a sender posts in its own JSON, mapped by the origin's mapping (or
    read as `POST /api/v1/leads` reads a body when it has none). A wrong ref or secret is a 404."""
    request.max_content_length = MAX_BODY_BYTES
    origin = held(db.session.execute(ORIGIN_QUERY, {"ref": ref}).first())
    if origin is None:
        return api_error(404, NOT_FOUND, "NOT_FOUND")
    note(dialect=DIALECT, origin_id=origin.id, workspace_id=origin.workspace_id)
    if not secret_matches(origin, secret):
        # Logged (the origin's page shows that a sender uses an old URL), without the secret.
        note(code="HOOK_SECRET_INVALID", message="The hook URL's secret is wrong, or was rotated")
        return api_error(404, NOT_FOUND, "NOT_FOUND")
    try:
        mapped = map_payload(origin.mapping, read_body(request), request)
        if mapped.errors or mapped.lead_input is None or mapped.context is None:
            return validation_response(mapped.errors)
        mapped.context.on_written = note_registration
        registration = register(origin, mapped.lead_input, mapped.context)
    except InvalidJSON as error:
        return handle_invalid_json(error)
    except RegistrationError as error:
        return handle_registration_error(error)
    note(lead_id=registration.lead.id, created=registration.created)
    body = {
        "success": True,
        "created": registration.created,
        "data": {**lead_dict(registration.lead), "journey": journey_summary(registration.journey)},
    }
    response = jsonify(body)
    response.status_code = created_status(registration.created)
    return response
