"""Security headers for every response: CSP with a per-request nonce, no framing by default."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Flask, Response, abort, current_app, g, request

SELF_ONLY = "'none'"


def csp_nonce() -> str:
    """The nonce of this request's CSP; templates put it on the few inline scripts they need."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def allow_framing_by(ancestors: Iterable[str], report_url: str | None = None) -> None:
    """Let this response be framed by these origins (the embed form); every other view denies.
    With `report_url`, browsers report there the pages they refused to let frame it."""
    g.frame_ancestors = list(ancestors)
    g.csp_report_url = report_url


def frameable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view whose framing is decided by `allow_framing_by` inside it."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.frame_ancestors = []
        return view(*args, **kwargs)

    return wrapper


def content_security_policy(
    nonce: str, frame_ancestors: list[str] | None, report_url: str | None = None
) -> str:
    ancestors = " ".join(frame_ancestors) if frame_ancestors else SELF_ONLY
    # `report-uri` alone: with `report-to` beside it Chromium ignores it, and it sends no
    # Reporting API report for a refused frame (its document, which would name the endpoint,
    # never exists), so the violation would never reach us.
    reporting = [f"report-uri {report_url}"] if report_url else []
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
            *reporting,
        ]
    )


def set_security_headers(response: Response) -> Response:
    frame_ancestors = g.get("frame_ancestors")
    report_url = g.pop("csp_report_url", None)  # this response's only (tests share `g`)
    response.headers.setdefault(
        "Content-Security-Policy", content_security_policy(csp_nonce(), frame_ancestors, report_url)
    )
    if not frame_ancestors:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def refuse_nul_in_url() -> None:
    """A NUL character in the path or query can never name anything, and databases refuse it."""
    if "\x00" in request.path or any("\x00" in value for value in request.args.values()):
        abort(400, "The URL contains a NUL character")
    if any("\x00" in key for key in request.args):
        abort(400, "The URL contains a NUL character")


def refuse_nul_in_form() -> None:
    """A NUL character in a staff form's field or an uploaded file's name: no person types one,
    PostgreSQL's text refuses it (a 500 there) and SQLite would keep it. The back-office and
    sign-in pages answer 400 before any view reads the form. (Public forms say so on the
    field, `values.text`; the API in its error envelope, `api.body`.)"""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    form = request.form
    if any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in form.lists()
    ):
        abort(400, "The form contains a NUL character, which cannot be stored")
    uploads = (upload for _, items in request.files.lists() for upload in items)
    if any("\x00" in (upload.filename or "") for upload in uploads):
        abort(400, "The uploaded file's name contains a NUL character")


def refuse_nul_before_the_view() -> None:
    """`refuse_nul_in_form` as a blueprint's before-request hook, but for the views marked
    `refuses_nul_itself`."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "refuses_nul_itself", False):
        refuse_nul_in_form()


def refuses_nul_itself(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view that calls `refuse_nul_in_form` itself, once it may read its body (one that
    raises the request's size limit first: the form must not be parsed before)."""
    view.refuses_nul_itself = True  # type: ignore[attr-defined]
    return view


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_in_url)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
