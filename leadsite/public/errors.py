"""Errors on lead-facing pages answer with a lead-facing page, never the back-office's."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from leadsite.models import OriginKind
from leadsite.public import bp
from leadsite.public.form_view import rate_limited
from leadsite.public.pages import message_page

FORM_ENDPOINTS = {
    "public.registration_page": OriginKind.PAGE,
    "public.embed_form": OriginKind.EMBED,
}
TITLES = {
    400: "Something was wrong with the request",
    404: "This page does not exist",
    413: "That was too much to send",
    429: "Too many attempts",
}
MESSAGES = {
    400: "Go back, reload the page and try again.",
    404: "The link may be mistyped or out of date.",
    413: "Go back and send less text.",
    429: "Wait a minute and try again.",
}


@bp.errorhandler(429)
def rate_limited_page(error: HTTPException) -> Response:
    """A friendly 429: a form comes back with everything typed and when to send it again."""
    kind = FORM_ENDPOINTS.get(request.endpoint or "")
    if kind is not None:
        ref = (request.view_args or {}).get("ref", "")
        return rate_limited(kind, kind == OriginKind.EMBED, ref)
    response = message_page(429, TITLES[429], [MESSAGES[429]])
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(400)
@bp.errorhandler(404)
@bp.errorhandler(413)
def error_page(error: HTTPException) -> Response:
    """The lead-facing page for an error raised inside a public view."""
    status = error.code or 400
    return message_page(status, TITLES.get(status, "Error"), [MESSAGES.get(status, "")])
