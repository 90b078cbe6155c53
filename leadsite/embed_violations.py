"""Pages outside an embed origin's allowed sites that framed its form: counted from browsers'
CSP reports, named on the origin's page, and allowed there in one click."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from leadsite.database import begin_write_transaction, holds_write_lock
from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import EmbedViolation, Origin, utcnow

# Reports are unauthenticated: past this many hosts an origin's page stops growing (the hosts
# already listed keep counting).
MAX_HOSTS_PER_ORIGIN = 20


def record_violation(origin: Origin, host: str) -> None:
    """Count one refused framing of the origin's embed by `host` (`scheme://host[:port]`).
    Two reports racing for a new host: the unique key makes one insert and one update. Commits:
    it runs in a request of its own (the report)."""
    if not holds_write_lock():
        db.session.commit()  # end the read transaction: SQLite's write lock is taken at BEGIN
        begin_write_transaction()
    known = db.session.scalar(
        db.select(db.func.count())
        .select_from(EmbedViolation)
        .where(EmbedViolation.origin_id == origin.id)
    )
    now = utcnow()
    exists = db.select(EmbedViolation.id).filter_by(origin_id=origin.id, host=host).exists()
    if known >= MAX_HOSTS_PER_ORIGIN and not db.session.scalar(db.select(exists)):
        db.session.rollback()
        return
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(EmbedViolation).values(
        id=new_id(EmbedViolation.id_prefix),
        origin_id=origin.id,
        host=host,
        count=1,
        first_seen=now,
        last_seen=now,
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["origin_id", "host"],
            set_={"count": EmbedViolation.count + 1, "last_seen": now},
        )
    )
    db.session.commit()


def origin_violations(origin: Origin) -> list[EmbedViolation]:
    """The hosts that framed the origin's embed without being allowed, latest first."""
    return list(
        db.session.scalars(
            db.select(EmbedViolation)
            .filter_by(origin_id=origin.id)
            .order_by(EmbedViolation.last_seen.desc(), EmbedViolation.id)
        )
    )


def allow_violation(origin: Origin, violation: EmbedViolation) -> None:
    """Add the violation's host to the origin's allowed sites and forget the violation. Flushes."""
    if violation.host not in (origin.allowed_domains or []):
        origin.allowed_domains = [*(origin.allowed_domains or []), violation.host]
    db.session.delete(violation)
    db.session.flush()


def dismiss_violation(violation: EmbedViolation) -> None:
    """Forget a violation (the host is not one to allow). Flushes."""
    db.session.delete(violation)
    db.session.flush()
