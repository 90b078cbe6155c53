"""When a staff task should be done: the time its stage was entered, plus its activity's
`due_within_days` (the staff task form's "Due within")."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

MAX_DUE_WITHIN_DAYS = 365


def staff_task_due(config: dict[str, Any], opened_at: datetime) -> datetime:
    """`opened_at` plus the activity's `due_within_days` (none, or out of range: `opened_at`)."""
    days = config.get("due_within_days")
    if isinstance(days, int) and not isinstance(days, bool) and 0 < days <= MAX_DUE_WITHIN_DAYS:
        return opened_at + timedelta(days=days)
    return opened_at
