"""One error model, answered in the caller's language: API JSON, an htmx fragment, or a page."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from leadsite.htmx import is_htmx

log = logging.getLogger(__name__)

API_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    423: "FUNNEL_CLOSED",
    429: "RATE_LIMITED",
}

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
}

MESSAGES = {
    403: "Your role does not give you access to this page.",
    404: "There is nothing here. The link may be old, or the item may have been removed.",
    429: "Too many attempts in a short time. Wait a minute and try again.",
    500: "The error has been logged. Try again in a moment.",
}


# The API, the dialects' paths outside it (KickoffLabs' /v1/ and /v2/, vcita's /platform/), the
# hook URLs.
JSON_PATHS = ("/api/", "/v1/", "/v2/", "/platform/", "/hooks/")


def wants_json() -> bool:
    return request.path.startswith(JSON_PATHS)


def api_error(
    status: int,
    message: str,
    code: str | None = None,
    details: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> Response:
    """The API's error envelope: `{"success": false, "error", "code", "details", "errors"}`."""
    body: dict[str, Any] = {
        "success": False,
        "error": message,
        "code": code or API_CODES.get(status, "ERROR"),
        "details": details if details is not None else {},
        "errors": errors if errors is not None else [],
    }
    response = jsonify(body)
    response.status_code = status
    return response


def error_page(
    status: int, message: str | None = None, title: str | None = None, anonymous: bool = False
) -> Response:
    """Render an error for a browser: a flash fragment for htmx, a whole page otherwise.

    `anonymous` renders it without asking who is signed in (which reads the database)."""
    context = {
        "status": status,
        "title": title or TITLES.get(status, "Error"),
        "message": message or MESSAGES.get(status, ""),
        "anonymous": anonymous,
    }
    if is_htmx():
        # Leave the request's target alone and show the error where flash messages go.
        response = make_response(render_template("errors/_flash_error.html", **context), status)
        response.headers["HX-Reswap"] = "none"
        return response
    return make_response(render_template("errors/error.html", **context), status)


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if wants_json():
        response = api_error(status, error.description or TITLES.get(status, "Error"))
    else:
        detailed = status in (400, 405, 413)
        response = error_page(status, error.description if detailed else None)
    if status == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_csrf_error(error: CSRFError) -> Response:
    message = "The form had expired or was sent from elsewhere. Reload the page and try again."
    if wants_json():
        return api_error(400, message, "CSRF_FAILED")
    return error_page(400, message, title="Form expired")


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    if wants_json():
        return api_error(500, "Internal error", "INTERNAL_ERROR")
    return error_page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_http_exception)
    if not app.config.get("PROPAGATE_EXCEPTIONS"):
        app.register_error_handler(Exception, handle_unexpected)
