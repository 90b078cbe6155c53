"""Query pieces shared by the API and the back-office: lead filters and keyset cursors."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from leadsite.extensions import db
from leadsite.models import Journey, Lead


def has_tag(tag: str) -> ColumnElement[bool]:
    """Leads whose JSON `tags` list contains `tag`."""
    if db.engine.dialect.name == "postgresql":
        return type_coerce(Lead.tags, JSONB).contains([tag])
    each = func.json_each(Lead.tags).table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == tag))


def in_funnel(funnel_id: str) -> ColumnElement[bool]:
    return exists(
        select(Journey.id).where(Journey.lead_id == Lead.id, Journey.funnel_id == funnel_id)
    )


def matches_prefix(text: str) -> ColumnElement[bool]:
    """Name, email or phone starting with `text` (prefix searches can use indexes)."""
    text = text.strip()
    if not text:
        return true()
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions = [
        Lead.email.like(pattern.lower(), escape="\\"),
        Lead.first_name.ilike(pattern, escape="\\"),
        Lead.last_name.ilike(pattern, escape="\\"),
    ]
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and len(digits) >= 3:
        conditions.append(Lead.phone.like(f"+{digits}%"))
    return or_(*conditions)


def encode_cursor(lead: Lead) -> str:
    raw = json.dumps([lead.created_at.isoformat(), lead.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raise ValueError for anything that is not a cursor this API made."""
    padded = cursor + "=" * (-len(cursor) % 4)
    created, lead_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
    return datetime.fromisoformat(created), str(lead_id)


def after_cursor(cursor: tuple[datetime, str]) -> ColumnElement[bool]:
    """Leads after the cursor in the order created_at desc, id desc."""
    created, lead_id = cursor
    return or_(Lead.created_at < created, and_(Lead.created_at == created, Lead.id < lead_id))


def newest_first(query: Any) -> Any:
    return query.order_by(Lead.created_at.desc(), Lead.id.desc())
