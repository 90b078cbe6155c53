"""CORS for registrations from browsers: an API origin lists the sites allowed to call it."""

from __future__ import annotations

import fnmatch

from flask import request
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.extensions import db
from leadsite.models import Origin

# Registrations that name their origin in the URL (`ref`, or the chatbot's id). A call naming
# none (the workspace's default origin) cannot be answered: a preflight carries no key, so no
# workspace.
CORS_ENDPOINTS = {"api.create_lead", "api.create_kohomai_journey", "api.create_chatbot_lead"}
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"


def origin_allowed(browser_origin: str, allowed_domains: list[str]) -> bool:
    """Match `https://app.example.com` against patterns such as `https://*.example.com` or
    `http://localhost:*` (scheme and host must match; `*` stands for any port or subdomain)."""
    candidate = browser_origin.lower().rstrip("/")
    for pattern in allowed_domains:
        pattern = pattern.lower().strip().rstrip("/")
        if pattern == "*" or candidate == pattern:
            return True
        if "*" in pattern and fnmatch.fnmatchcase(candidate, pattern):
            # `*` must not cross into the path or scheme: check what it stood for.
            head, _, tail = pattern.partition("*")
            middle = candidate[len(head) : len(candidate) - len(tail) if tail else None]
            if "/" not in middle and ":" not in middle.strip(":"):
                return True
    return False


@bp.after_request
def add_cors_headers(response: Response) -> Response:
    browser_origin = request.headers.get("Origin")
    if not browser_origin or request.endpoint not in CORS_ENDPOINTS:
        return response
    ref = request.args.get("ref", "") or (request.view_args or {}).get("chatbot_id", "")
    origin = db.session.scalar(db.select(Origin).filter_by(ref=ref, active=True)) if ref else None
    if origin is None or not origin_allowed(browser_origin, origin.allowed_domains or []):
        return response
    response.headers["Access-Control-Allow-Origin"] = browser_origin
    response.vary.add("Origin")
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    else:
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response
