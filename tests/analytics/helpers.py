"""Reading the form counts as the analytics page would: flushed first, by key."""

from __future__ import annotations

from leadsite.analytics.counters import flush
from leadsite.extensions import db
from leadsite.models import FormCount, Origin

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
    "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "",
]


def counts(origin: Origin, event: str | None = None) -> dict[tuple[str, ...], int]:
    """(event, field, referrer host, campaign) -> count, for `origin`; of one event if given."""
    flush()
    db.session.expire_all()
    rows = db.session.scalars(db.select(FormCount).filter_by(origin_id=origin.id))
    return {
        (row.event, row.field, row.referrer_host, row.utm_campaign): row.count
        for row in rows
        if event is None or row.event == event
    }


def total(origin: Origin, event: str) -> int:
    return sum(counts(origin, event).values())


def stored(origin: Origin, event: str) -> int:
    """The count in the database now, unflushed increments left out, read beside the session
    (which may be mid-transaction)."""
    with db.engine.connect() as connection:
        query = db.select(db.func.coalesce(db.func.sum(FormCount.count), 0)).filter_by(
            origin_id=origin.id, event=event
        )
        return int(connection.scalar(query))
