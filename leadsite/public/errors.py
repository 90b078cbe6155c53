"""Errors on lead-facing pages answer with a lead-facing page, never the back-office's."""

from __future__ import annotations

import logging

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from leadsite import outages
from leadsite.models import OriginKind
from leadsite.public import bp
from leadsite.public.form_view import rate_limited
from leadsite.public.pages import message_page

log = logging.getLogger(__name__)

FORM_ENDPOINTS = {
    "public.registration_page": OriginKind.PAGE,
    "public.embed_form": OriginKind.EMBED,
}
PAGES = {
    400: (
        _l("Something was wrong with the request"),
        _l("Go back, reload the page and try again."),
    ),
    404: (_l("This page does not exist"), _l("The link may be mistyped or out of date.")),
    405: (_l("This page does not exist"), _l("The link may be mistyped or out of date.")),
    413: (_l("That was too much to send"), _l("Go back and send less text.")),
    429: (_l("Too many attempts"), _l("Wait a minute and try again.")),
    500: (
        _l("Something went wrong on our side"),
        _l("What you sent was not saved. Go back and send it again in a moment."),
    ),
}


@bp.errorhandler(429)
def rate_limited_page(error: HTTPException) -> Response:
    """A friendly 429: a form comes back with everything typed and when to send it again."""
    if isinstance(error.response, Response):
        return error.response  # the view's own answer (its limit's `on_breach`)
    kind = FORM_ENDPOINTS.get(request.endpoint or "")
    if kind is not None:
        ref = (request.view_args or {}).get("ref", "")
        return rate_limited(kind, kind == OriginKind.EMBED, ref)
    response = message_page(429, *_page(429))
    response.headers["Retry-After"] = "60"
    return response


@bp.errorhandler(Exception)
def error_page(error: Exception) -> Response:
    """The lead-facing page for any other error raised inside a public view."""
    if isinstance(error, HTTPException):
        status = error.code or 500
        return message_page(status, *_page(status))
    if outages.is_outage(error):
        # The 500 page's words say it too: nothing was saved, send it again in a moment.
        outages.forget_the_transaction(error)
        return outages.unavailable(message_page(503, *_page(500)))
    if current_app.config.get("PROPAGATE_EXCEPTIONS"):
        raise error  # tests and debugging see the exception itself
    log.exception("unhandled error on %s %s", request.method, request.path)
    return message_page(500, *_page(500))


def _page(status: int) -> tuple[str, list[str]]:
    title, text = PAGES.get(status, PAGES[400] if status < 500 else PAGES[500])
    return str(title), [str(text)]
