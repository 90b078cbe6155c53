"""Who may send lead data out of leadsite from the funnel editor: webhook activities are the
administrators' (as the workspace's webhooks are), and managers email lead data only to the
workspace's users or to addresses an administrator already set."""

from __future__ import annotations

from flask import g
from wtforms import Field

from leadsite.backoffice.funnel_activity_forms import KIND_LABELS
from leadsite.extensions import db
from leadsite.models import ActivityKind, Membership, User


def may_configure(kind: str) -> bool:
    """Whether the member may add or change an activity of this kind: a webhook sends lead data,
    signed with the workspace's secret, to any URL, so only administrators configure one (as
    they do the workspace's webhooks); managers see it read-only."""
    return kind != ActivityKind.WEBHOOK or g.membership.is_administrator


def recipients_allowed(field: Field, kept: list[str] | None) -> bool:
    """Whether the member may send lead data to these addresses (a funnel's emails to notify,
    a `notify_staff` activity's `to`): administrators to any; managers to the workspace's
    members and to the addresses already there. Else the field says which, and False."""
    if g.membership.is_administrator:
        return True
    members = {
        email.lower()
        for email in db.session.scalars(
            db.select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == g.workspace.id, Membership.active.is_(True))
        )
    }
    allowed = members | {address.lower() for address in kept or []}
    outside = [address for address in field.data or [] if address.lower() not in allowed]
    if outside:
        field.errors = [
            *field.errors,
            "Managers may add only the workspace's users here; ask an administrator for "
            f"other addresses: {', '.join(outside)}.",
        ]
    return not outside


def addable_kinds() -> dict[str, str]:
    """The kinds of activity the member may add, with their labels."""
    return {kind: label for kind, label in KIND_LABELS.items() if may_configure(kind)}
