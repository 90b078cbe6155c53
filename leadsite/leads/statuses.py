"""A workspace's managed lead statuses: the defaults, the check every door makes, and changes.

`Lead.status` holds a status's `key`; every way a status is set (the lead page, bulk actions,
the `set_status` activity, the API) accepts only the keys the workspace has. Functions here
flush, never commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from leadsite import values
from leadsite.extensions import db
from leadsite.models import Lead, LeadStatus

# (key, name, colour, closed), in order: what every new workspace starts with. Migration
# 0007_analytics_ux seeded existing workspaces with the same five.
DEFAULT_STATUSES = [
    ("new", "New", "#2563eb", False),
    ("contacted", "Contacted", "#7c3aed", False),
    ("qualified", "Qualified", "#d97706", False),
    ("customer", "Customer", "#059669", True),
    ("lost", "Lost", "#6b7280", True),
]
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
MAX_KEY = 40
MAX_NAME = 60


# The status every new lead gets (`Lead.status`'s default; the chatbot dialect sends it too): it
# can be renamed and recoloured, never deleted.
FIRST = "new"


class StatusInUse(Exception):
    """A status that leads still have cannot be deleted; `count` says how many."""

    def __init__(self, status: LeadStatus, count: int) -> None:
        super().__init__(f"{count} leads have the status “{status.name}”")
        self.status, self.count = status, count


def seed_defaults(workspace_id: str) -> list[LeadStatus]:
    """Give a new workspace the default statuses."""
    rows = [
        LeadStatus(
            workspace_id=workspace_id,
            key=key,
            name=name,
            colour=colour,
            position=position,
            closed=closed,
        )
        for position, (key, name, colour, closed) in enumerate(DEFAULT_STATUSES)
    ]
    db.session.add_all(rows)
    db.session.flush()
    return rows


def statuses(workspace_id: str) -> list[LeadStatus]:
    """The workspace's statuses in their order (open and closed alike)."""
    return list(
        db.session.scalars(
            db.select(LeadStatus)
            .filter_by(workspace_id=workspace_id)
            .order_by(LeadStatus.position, LeadStatus.key)
        )
    )


def keys(workspace_id: str) -> list[str]:
    """The keys a lead's status may take in the workspace, in order."""
    return list(
        db.session.scalars(
            db.select(LeadStatus.key)
            .filter_by(workspace_id=workspace_id)
            .order_by(LeadStatus.position, LeadStatus.key)
        )
    )


def known(
    workspace_id: str, raw: object, read_keys: Callable[[], list[str]] | None = None
) -> str | None:
    """`raw` as a status key of the workspace (None stays None); `values.Invalid` naming the
    keys there are otherwise. Every door that sets a status checks it here. `read_keys`: the
    workspace's keys as a batch's `Catalogue` reads them once, else `keys`."""
    key = values.text(raw, MAX_KEY)
    if key is None:
        return None
    allowed = read_keys() if read_keys is not None else keys(workspace_id)
    if key not in allowed:
        raise values.Invalid(f"must be one of these statuses: {', '.join(allowed)}")
    return key


def matching(workspace_id: str, raw: object) -> str | None:
    """The key of the workspace's status that `raw` names, by key or by name, whatever the
    case; None when none does. For doors whose callers name statuses their own way."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    wanted = raw.strip().casefold()
    for status in statuses(workspace_id):
        if wanted in (status.key.casefold(), status.name.casefold()):
            return status.key
    return None


def slug(name: str) -> str:
    """The key a status named `name` gets: lower case, words joined by `_`."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:MAX_KEY]


def add_status(workspace_id: str, name: str, colour: str, closed: bool) -> LeadStatus:
    """A new status after the others; its key comes from its name and never changes."""
    key = slug(name)
    if not key:
        raise values.Invalid("Name must contain a letter or a digit")
    taken = f"Name gives the key “{key}”, which another status has"
    if key in keys(workspace_id):
        raise values.Invalid(taken)
    last = db.session.scalar(
        db.select(func.max(LeadStatus.position)).filter_by(workspace_id=workspace_id)
    )
    status = LeadStatus(
        workspace_id=workspace_id,
        key=key,
        name=name,
        colour=colour.lower(),
        position=(last if last is not None else -1) + 1,
        closed=closed,
    )
    try:
        with db.session.begin_nested():  # the key checked above may be taken since
            db.session.add(status)
    except IntegrityError:
        raise values.Invalid(taken) from None
    return status


def move_status(status: LeadStatus, offset: int) -> None:
    """Move a status up (-1) or down (+1) in its workspace's order."""
    ordered = statuses(status.workspace_id)
    index = ordered.index(status)
    target = min(max(index + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    for position, each in enumerate(ordered):
        each.position = position
    db.session.flush()


def lead_counts(workspace_id: str) -> dict[str, int]:
    """How many of the workspace's leads (erased ones aside) have each status, by key, in one
    pass over the status index."""
    rows = db.session.execute(
        db.select(Lead.status, func.count())
        .where(Lead.workspace_id == workspace_id, Lead.erased_at.is_(None))
        .group_by(Lead.status)
    )
    return {key: count for key, count in rows}


def lead_count(status: LeadStatus) -> int:
    """How many of the workspace's leads (erased ones aside) have the status."""
    return (
        db.session.scalar(
            db.select(func.count())
            .select_from(Lead)
            .where(
                Lead.workspace_id == status.workspace_id,
                Lead.status == status.key,
                Lead.erased_at.is_(None),
            )
        )
        or 0
    )


def delete_status(status: LeadStatus, move_to: LeadStatus | None = None) -> int:
    """Delete a status; its leads move to `move_to` first (how many is returned).

    Without `move_to`, a status that leads have raises `StatusInUse`. Moving sets the column
    directly: no journey waits on a status, and a bulk change of many leads emits no events
    (as an import does not).
    """
    if status.key == FIRST:
        raise ValueError(f"the status “{FIRST}” new leads get cannot be deleted")
    count = lead_count(status)
    if count and move_to is None:
        raise StatusInUse(status, count)
    if move_to is not None and count:
        db.session.execute(
            db.update(Lead)
            .where(Lead.workspace_id == status.workspace_id, Lead.status == status.key)
            .values(status=move_to.key)
        )
    db.session.delete(status)
    db.session.flush()
    return count
