"""Whether a user is still an active member of a workspace, read afresh for a change about to be
written on their behalf (a request of theirs, or work they started that runs later)."""

from __future__ import annotations

from sqlalchemy import Select

from leadsite.extensions import db
from leadsite.models import Membership, User


def _access(user_id: str, workspace_id: str) -> Select[tuple[bool, bool]]:
    return (
        db.select(Membership.active, User.active)
        .join(Membership.user)
        .where(Membership.user_id == user_id, Membership.workspace_id == workspace_id)
    )


def still_a_member(user_id: str, workspace_id: str) -> bool:
    """Whether the user and their membership of the workspace are both active, read with the
    membership locked FOR SHARE until the transaction ends (PostgreSQL): a deactivation waits
    for the change under way, and a change that waited for a deactivation sees it. SQLite
    takes no lock: call it once the transaction holds the write lock, so that no deactivation
    can come between this read and the change's commit."""
    found = db.session.execute(
        _access(user_id, workspace_id).with_for_update(read=True, of=Membership)
    ).first()
    return found is not None and all(found)


def a_member_now(user_id: str, workspace_id: str) -> bool:
    """The same, read now on a connection of its own, outside the session's transaction: for
    a long read (a streamed export) whose own snapshot (SQLite) would not show a deactivation
    committed since it began."""
    with db.engine.connect() as connection:
        found = connection.execute(_access(user_id, workspace_id)).first()
    return found is not None and all(found)


def active_among(workspace_id: str, user_ids: set[str]) -> set[str]:
    """Which of `user_ids` are active members of the workspace now (user and membership)."""
    if not user_ids:
        return set()
    return set(
        db.session.scalars(
            db.select(Membership.user_id)
            .join(Membership.user)
            .where(
                Membership.workspace_id == workspace_id,
                Membership.user_id.in_(sorted(user_ids)),
                Membership.active.is_(True),
                User.active.is_(True),
            )
        )
    )
