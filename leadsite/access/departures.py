"""Deactivating a member of a workspace, and what they leave behind there: sessions end on
their next request (`backoffice.workspace.load_workspace`), imports and downloads stop at their
next check (`members`); the invitations they sent are withdrawn and their staff tasks go back
to the team, in the deactivation's own transaction. Their API keys stay: those are the
workspace's integrations, and Settings > API keys says who made them. Flushes, never commits."""

from __future__ import annotations

from dataclasses import dataclass

from leadsite.access.invitations import withdraw_sent_by
from leadsite.extensions import db
from leadsite.journeys.departed import release_assignments
from leadsite.models import Membership


@dataclass(frozen=True)
class Departure:
    invitations: int  # pending invitations they sent, withdrawn
    tasks: int  # open staff tasks unassigned
    funnel_tasks: int  # funnels' staff tasks that named them, now naming nobody


def deactivate(membership: Membership) -> Departure:
    """Deactivate the membership. Call it with the workspace's memberships locked
    (`lock_memberships`): a change of theirs under way finished first, and one that waited
    finds them deactivated."""
    membership.active = False
    db.session.flush()
    withdrawn = withdraw_sent_by(membership.workspace_id, membership.user_id)
    released = release_assignments(membership.workspace_id, membership.user)
    return Departure(withdrawn, released.tasks, released.funnel_tasks)
