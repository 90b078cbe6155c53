"""The form funnel's public counting: `POST /b/<ref>` (a form's view or start, sent by embed.js
and public-form.js), the hosted page's own view, and what a posted form came to.

A beacon carries the event, the referring host and the UTM campaign, nothing else: no cookie
is read or set, no address or user agent is stored. Requests whose user agent is a bot's are
answered like any other and not counted, as are beacons whose `Origin` is neither this site
nor one the origin allows to embed it (`allowed_domains`).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from werkzeug.wrappers import Response

from leadsite.analytics.bots import is_bot
from leadsite.analytics.counters import count, referrer_host
from leadsite.extensions import db, limiter
from leadsite.models import FormEvent, Origin, OriginKind
from leadsite.public import bp
from leadsite.public.framing import foreign_origin
from leadsite.public.submission import Attribution

BEACON_EVENTS = {FormEvent.VIEW.value: FormEvent.VIEW, FormEvent.START.value: FormEvent.START}
DEFAULT_RATE_LIMIT = "60 per minute"
MAX_BODY_BYTES = 2048


@dataclass
class Beacon:
    """Where a form page counts its start, and with what (public/_beacon.html)."""

    url: str
    referrer_host: str
    utm_campaign: str

    @classmethod
    def of(cls, origin: Origin, attribution: Attribution) -> Beacon:
        return cls(
            url_for("public.form_beacon", ref=origin.ref),
            referrer_host(attribution.referrer),
            attribution.utm.get("utm_campaign", ""),
        )


def beacon_rate_limit() -> str:
    return str(current_app.config.get("BEACON_RATE_LIMIT") or DEFAULT_RATE_LIMIT)


def beacon_rate_limit_key() -> str:
    """Per IP and form, apart from the form's own POSTs."""
    return f"beacon:{request.remote_addr}:{(request.view_args or {}).get('ref', '')}"


@bp.post("/b/<ref>")
@limiter.limit(beacon_rate_limit, key_func=beacon_rate_limit_key)
def form_beacon(ref: str) -> Response:
    """Count a view or a start of a page or embed origin's form: 204 (counted unless a bot's,
    or sent from a site the origin does not allow), or 400 for an event that is neither, 404
    for a form that does not exist."""
    request.max_content_length = MAX_BODY_BYTES
    event = BEACON_EVENTS.get(request.form.get("event", ""))
    if event is None:
        return _refusal(400, 'event: must be "view" or "start"')
    origin = db.session.scalar(
        db.select(Origin).filter(
            Origin.ref == ref, Origin.kind.in_([OriginKind.PAGE, OriginKind.EMBED])
        )
    )
    if origin is None or not origin.active:
        return _refusal(404, "No such form")
    # A beacon sent from a site that may not embed this form (or one it was copied to) is
    # answered like any other and not counted.
    if not is_bot(request.user_agent.string) and not foreign_origin(origin):
        count(
            origin,
            event,
            referrer_host=referrer_host(request.form.get("referrer")),
            utm_campaign=request.form.get("utm_campaign", ""),
        )
    return Response(status=204)


def count_hosted_view(origin: Origin, attribution: Attribution) -> None:
    """The hosted page counts its own GET (not HEAD), so that views without JavaScript count;
    the embed's view is embed.js's beacon, sent once its frame has loaded in a page, since the
    frame's GET is also made by link previews, prefetches and bots that run no script."""
    if request.method == "GET" and not is_bot(request.user_agent.string):
        count_form(origin, attribution, FormEvent.VIEW)


def count_form(
    origin: Origin, attribution: Attribution, event: FormEvent, fields: list[str] | None = None
) -> None:
    """Count `event` on a posted (or shown) form; an `invalid` once per failing field."""
    for field in fields or [""]:
        count(
            origin,
            event,
            field=field,
            referrer_host=referrer_host(attribution.referrer),
            utm_campaign=attribution.utm.get("utm_campaign", ""),
        )


def _refusal(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")
