"""Who may frame the embed form, and where a public form may send the browser after a POST.

The CSP is built by `leadsite.security`; public views only widen two directives for
themselves: `frame-ancestors` (the embed view, through `allow_framing_by`) and `form-action`
(the hosted page whose origin redirects elsewhere after a successful registration).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Response, current_app, g, request

from leadsite import values
from leadsite.api.cors import origin_allowed
from leadsite.models import Origin, OriginKind
from leadsite.security import content_security_policy, csp_nonce

# A CSP host-source as allowed domains are written: scheme, host (maybe `*.`), port (maybe `*`).
HOST_SOURCE = re.compile(
    r"^(?:https?://)?(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*(?::(?:\d{1,5}|\*))?$"
)


def frame_sources(allowed_domains: Iterable[str]) -> list[str]:
    """The allowed domains usable as CSP sources; anything else (spaces, `;`, paths) is left
    out, so no entry can add a directive to the policy."""
    sources = []
    for domain in allowed_domains:
        if not isinstance(domain, str):
            continue
        candidate = domain.strip().lower().rstrip("/")
        if candidate == "*" or HOST_SOURCE.match(candidate):
            sources.append(candidate)
    return sources


def framing_problem(origin: Origin) -> str | None:
    """Why an embed origin's form cannot be shown inside other sites, or None when it can.
    For the back-office's origin page."""
    if origin.kind != OriginKind.EMBED:
        return None
    if not origin.allowed_domains:
        return (
            "No site may show this form: add the domains of the sites that embed it "
            "(e.g. https://www.example.com or https://*.example.com)."
        )
    if not frame_sources(origin.allowed_domains):
        return "None of the allowed domains is a valid site address, so no site may show it."
    return None


def url_origin(url: str | None) -> str | None:
    """`https://example.com:8443` for a URL on it; None for anything but http(s)."""
    parsed = values.stored_url(url)
    if parsed is None:
        return None
    return parsed.origin if HOST_SOURCE.match(parsed.origin) else None


def allow_form_action(response: Response, url: str | None) -> Response:
    """Let this page's form lead to `url`'s site: a browser applies `form-action` to the
    redirect that follows a POST too, so a hosted form redirecting elsewhere needs it."""
    source = url_origin(url)
    if source:
        policy = content_security_policy(
            csp_nonce(), g.get("frame_ancestors"), g.get("csp_report_url")
        )
        response.headers["Content-Security-Policy"] = policy.replace(
            "form-action 'self'", f"form-action 'self' {source}"
        )
    return response


def foreign_origin(origin: Origin) -> bool:
    """A POST whose `Origin` header names a site other than ours and the origin's allowed
    sites: a cross-site form. Browsers send `Origin` with every POST, so a missing one is a
    client that is not a browser (the token still guards it); `null` (a sandboxed or
    privacy-redirected page) is foreign."""
    sent = request.headers.get("Origin")
    if sent is None:
        return False
    sent = sent.strip().lower().rstrip("/")
    ours = {url_origin(request.host_url), url_origin(current_app.config.get("BASE_URL"))}
    if sent in {value.lower() for value in ours if value}:
        return False
    return sent == "null" or not origin_allowed(sent, origin.allowed_domains or [])
