"""The embed's CSP violation reports: which page framed an embed form against its allowed sites.

Chromium's report of a refused frame names neither the framing page nor its site (only our own
origin), so the report URL carries it: each embed response's `report-uri` holds a signed token
with the site its request came from (the Referer, else the `url` embed.js passes). The browser
sends the report, at once, only when it refused the frame; the token says who framed it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

from leadsite.api.cors import origin_allowed
from leadsite.embed_violations import record_violation
from leadsite.extensions import db, limiter
from leadsite.models import Origin, OriginKind
from leadsite.public import bp
from leadsite.public.framing import frame_sources, url_origin
from leadsite.security import allow_framing_by
from leadsite.values import load_json

REPORT_SALT = "leadsite.embed-csp-report"
# A browser sends the report as the frame is refused; a day covers a page left open.
REPORT_TOKEN_MAX_AGE = 24 * 3600
# A report is under 1 KB (the policy it quotes is most of it).
MAX_REPORT_BYTES = 16 * 1024
REPORT_RATE_LIMIT = "30 per minute"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=REPORT_SALT)


def allow_embed_framing(origin: Origin) -> None:
    """Let the origin's allowed sites frame this embed response, and have browsers report to
    `csp_report` a refusal of the site this request came from."""
    host = url_origin(request.referrer) or url_origin(request.args.get("url"))
    token = _serializer().dumps({"ref": origin.ref, "host": host}) if host else None
    report_url = url_for("public.csp_report", ref=origin.ref, t=token, _external=True)
    allow_framing_by(frame_sources(origin.allowed_domains or []), report_url)


def _report_limit_key() -> str:
    ref = (request.view_args or {}).get("ref", "")
    return f"csp-report:{request.remote_addr}:{ref}"


@bp.post("/csp-reports/embed/<ref>")
@limiter.limit(REPORT_RATE_LIMIT, key_func=_report_limit_key)
def csp_report(ref: str) -> Response:
    """Count the site a browser refused to let frame this origin's embed (a `frame-ancestors`
    report whose token names it). An empty 204 whatever was kept: browsers ignore the answer."""
    request.max_content_length = MAX_REPORT_BYTES
    origin = db.session.scalar(db.select(Origin).filter_by(ref=ref, kind=OriginKind.EMBED))
    if origin is None:
        return Response(status=404)
    try:
        report = load_json(request.get_data())
    except ValueError:  # not JSON, not UTF-8, or nested past the parser
        return Response(status=400)
    host = _framing_host(request.args.get("t", ""), origin.ref)
    if host and refused_frame(report) and not origin_allowed(host, origin.allowed_domains or []):
        record_violation(origin, host)
    return Response(status=204)


def refused_frame(report: Any) -> bool:
    """Whether this `report-uri` body reports a refused frame (`frame-ancestors`)."""
    body = report.get("csp-report") if isinstance(report, dict) else None
    if not isinstance(body, dict):
        return False
    directive = body.get("effective-directive") or body.get("violated-directive")
    return isinstance(directive, str) and directive.split(" ")[0] == "frame-ancestors"


def _framing_host(token: str, ref: str) -> str | None:
    try:
        value = _serializer().loads(token, max_age=REPORT_TOKEN_MAX_AGE)
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("ref") != ref:
        return None
    host = value.get("host")
    return host if isinstance(host, str) else None
