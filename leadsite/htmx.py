"""htmx helpers: one URL renders a whole page, or only the block an htmx request swaps in."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """True for an htmx request that swaps part of the page.

    A history restore or a request targeting the whole body wants the full page.
    """
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and headers.get("HX-Request-Type", "partial") != "full"
    )


def render_page_or_block(template: str, block: str, status: int = 200, **context: Any) -> Response:
    """Render `block` of `template` for htmx, the whole template otherwise."""
    if is_htmx():
        # The fragment carries the flash messages too, swapped out of band into #flash.
        body = render_block(template, block, **context) + render_template("_flash.html", oob=True)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response
