"""One form token, one submission: the nonce of every token sent is recorded until it expires."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite

from leadsite.database import begin_write_transaction, holds_write_lock
from leadsite.extensions import db
from leadsite.models import UsedFormToken, utcnow
from leadsite.public.tokens import FormToken


def _insert_once(dialect: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # RETURNING says whether the row went in (psycopg's rowcount does not, here).
    return (
        insert(UsedFormToken)
        .on_conflict_do_nothing(index_elements=["nonce"])
        .returning(UsedFormToken.nonce)
    )


def use_form_token(token: FormToken) -> bool:
    """Record that this token was sent, in a transaction of its own; False when it had been
    sent before (a replay, a second tab, a double click). Two requests racing with one token:
    the database's primary key lets exactly one of them record it. Tokens past their expiry
    are pruned here, as they are refused anyway."""
    if not holds_write_lock():
        db.session.commit()  # end the read transaction: SQLite's write lock is taken at BEGIN
        begin_write_transaction()
    expires_at = datetime.fromtimestamp(token.expires_at, UTC)
    db.session.execute(db.delete(UsedFormToken).where(UsedFormToken.expires_at < utcnow()))
    recorded = db.session.scalar(
        _insert_once(db.engine.dialect.name).values(nonce=token.nonce, expires_at=expires_at)
    )
    db.session.commit()
    return recorded is not None
