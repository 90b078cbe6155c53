"""Counting the form funnel: `count()` one event on an origin, per UTC day, referring host and
UTM campaign, and nothing about the person (no cookie, no address, no identifier).

Counts are queued in the process and upserted in batches (`counter_writer`). What happens
inside a transaction that may still roll back (a confirmation, a conversion) is counted with
`count_journey`: queued only once the session commits, forgotten if it rolls back.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from leadsite import values
from leadsite.analytics.counter_writer import CountKey, writer
from leadsite.batch_writer import read_fresh
from leadsite.extensions import db
from leadsite.models import FormEvent, Journey, Origin, utcnow

MAX_FIELD = 100
MAX_HOST = 255
MAX_CAMPAIGN = 200
PENDING = "leadsite.form_counts"  # the session's `info` key of counts awaiting its commit
COMMITTED = "leadsite.form_counts_committed"


def count(
    origin: Origin,
    event: FormEvent,
    *,
    field: str = "",
    referrer_host: str = "",
    utm_campaign: str = "",
) -> None:
    """Count one `event` on `origin` today (UTC). `field` names the failing field of an
    `invalid`; empty strings mean none."""
    queue = writer()
    if queue is not None:
        queue.add(key(origin, event, field, referrer_host, utm_campaign))


def count_journey(journey: Journey | None, event: FormEvent) -> None:
    """Count `event` (a confirmation, a conversion) on the origin the journey came through,
    with the journey's first-touch referrer and campaign, once the session commits with the
    journey in the database: a journey built for a registration that then fails is not
    counted, nor is one whose transaction rolls back."""
    origin = db.session.get(Origin, journey.origin_id) if journey and journey.origin_id else None
    if journey is None or origin is None:
        return
    made = key(origin, event, "", journey.referrer_host or "", journey.utm_campaign or "")
    db.session().info.setdefault(PENDING, []).append((journey, made))


def flush() -> int:
    """Write this process's queued counts now, and let the session see them: call it before
    reading `form_counts`. Never while holding SQLite's write lock."""
    queue = writer()
    written = queue.flush() if queue is not None else 0
    read_fresh()
    return written


def referrer_host(url: str | None) -> str:
    """The host of a referring URL (`https://News.example.com/a?b` -> `news.example.com`), or
    a host alone as a beacon sends it; '' for none or anything that is not one."""
    if not url or not url.strip():
        return ""
    raw = url.strip()
    try:
        host = values.parse_url(raw if "://" in raw else f"https://{raw}").host
    except values.Invalid:
        return ""
    return host[:MAX_HOST]


def key(
    origin: Origin, event: FormEvent, field: str, referrer_host: str, utm_campaign: str
) -> CountKey:
    """The increment of `event` on `origin` today (UTC), its texts cut to the columns."""
    return CountKey(
        workspace_id=origin.workspace_id,
        funnel_id=origin.funnel_id,
        origin_id=origin.id,
        day=utcnow().date(),
        event=event.value,
        field=field[:MAX_FIELD],
        referrer_host=referrer_host[:MAX_HOST],
        utm_campaign=utm_campaign.strip()[:MAX_CAMPAIGN],
    )


@event.listens_for(Session, "after_commit")
def _queue_committed(session: Session) -> None:
    pending: list[tuple[Journey, CountKey]] = session.info.get(PENDING) or []
    if not pending:
        return
    # A journey built before the registration's write transaction is not written yet when the
    # registration ends its read transaction: it waits for the next commit.
    stored = [key for journey, key in pending if inspect(journey).persistent]
    session.info[PENDING] = [item for item in pending if not inspect(item[0]).persistent]
    session.info[COMMITTED] = True
    queue = writer()
    if queue is not None:
        for key in stored:
            queue.add(key)


@event.listens_for(Session, "after_transaction_end")
def _forget_rolled_back(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not session.info.pop(COMMITTED, False):
        session.info.pop(PENDING, None)
