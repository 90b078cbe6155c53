"""The one rule for a webhook URL saved by staff or the API: the workspace's endpoints
(settings, `/api/v1/webhooks`) and a funnel's webhook activities refuse the same URLs, in the
same words."""

from __future__ import annotations

from leadsite import values
from leadsite.outbox import http

CREDENTIALS = (
    "must not contain a user name or password: receivers check the webhook's signature instead"
)


def webhook_url_problem(raw: str | None, allow_private: bool) -> str | None:
    """What is wrong with `raw` as a webhook URL, worded to follow "The URL " (`must be an
    absolute http:// or https:// URL`, `must be a public address: ...`); None when it is fine.
    Private and loopback addresses pass only with `allow_private` (`WEBHOOK_ALLOW_PRIVATE`)."""
    try:
        url = values.url(raw)
    except values.Invalid as error:
        return str(error)
    if url is None:
        return "must be an absolute http:// or https:// URL"
    parsed = values.parse_url(url)
    # Sent as given they would reach logs and delivery records; the client never sends them.
    parts = values.url_parts(url)
    if parts is not None and "@" in parts.netloc:
        return CREDENTIALS
    refused = None if allow_private else http.refusal(parsed)
    if refused:
        return f"must be a public address: {refused}"
    return None
