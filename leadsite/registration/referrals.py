"""Referrals: a lead's share code (`kid`), the referrer a registration names, the share URL."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlunsplit

from flask import current_app
from sqlalchemy import update

from leadsite import values
from leadsite.extensions import db
from leadsite.models import Lead

SHARE_PARAM = "kid"
CODE = re.compile(r"^[0-9a-z]{4,16}$")
MAX_POINTS = 1_000_000


def read_code(raw: Any) -> str | None:
    """A share code as sent (`social_id`, `kid`): trimmed and lower-cased; None when it cannot be
    one. A code that names no lead is not an error: a stale share link must not stop a signup."""
    if not isinstance(raw, str):
        return None
    code = raw.strip().lower()
    return code if CODE.match(code) else None


def lead_id_by_code(workspace_id: str, code: str | None) -> str | None:
    """The id of the workspace's lead whose share code is `code`."""
    if not code:
        return None
    return db.session.scalar(
        db.select(Lead.id).filter_by(workspace_id=workspace_id, social_id=code, erased_at=None)
    )


def points(raw: Any) -> int | None:
    """Contest points to add: a whole number; None when not given."""
    if raw is None or raw == "":
        return None
    value = values.number(raw)
    if not isinstance(value, int) or abs(value) > MAX_POINTS:
        raise values.Invalid(f"must be a whole number from -{MAX_POINTS} to {MAX_POINTS}")
    return value


def count_referral(referrer_id: str) -> None:
    """One more lead referred by `referrer_id`: counted in the database, where concurrent
    referrals of the same referrer cannot lose an increment."""
    db.session.execute(
        update(Lead).where(Lead.id == referrer_id).values(referrals=Lead.referrals + 1)
    )


def share_url(lead: Lead, page_ref: str | None) -> str | None:
    """Where the lead sends people: the page they signed up on, else the hosted page `page_ref`,
    with `?kid=<their code>`; None when there is neither."""
    if not lead.social_id:
        return None
    parts = values.url_parts(lead.source_url) if lead.source_url else None
    if parts is not None and parts.scheme in ("http", "https") and parts.netloc:
        scheme, netloc, path, query, fragment = parts
        params = [(k, v) for k, v in parse_qsl(query) if k.lower() != SHARE_PARAM]
        query = urlencode([*params, (SHARE_PARAM, lead.social_id)])
        return urlunsplit((scheme, netloc, path, query, fragment))
    if page_ref:
        base = current_app.config["BASE_URL"]
        return f"{base}/r/{page_ref}?{urlencode({SHARE_PARAM: lead.social_id})}"
    return None
