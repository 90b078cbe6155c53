"""Emails of lead data to staff (a `notify_staff` step, a registration's notify emails, a failed
step's alert): never to a member the workspace deactivated, neither when queued nor when sent.

An address is a deactivated member's when it is the email of a user whose membership of the
message's workspace is deactivated, or whose account is. Any other address stays a recipient:
an address of no member at all is a team inbox (sales@), which only administrators may add.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import false, func

from leadsite.extensions import db
from leadsite.models import Membership, OutboxMessage, User
from leadsite.outbox.email import queue_email

# The payload's mark of an email to staff: the worker checks its recipient again at sending.
TO_STAFF = "to_staff"
NOT_SENT = "not sent: {to} is a deactivated member of this workspace"


def deactivated_members(workspace_id: str, addresses: Iterable[str]) -> set[str]:
    """Which of `addresses` (lower-cased) belong to deactivated members of the workspace."""
    return {email for _, email in _deactivated({workspace_id}, set(addresses))}


def _deactivated(workspace_ids: set[str], addresses: set[str]) -> set[tuple[str, str]]:
    """(workspace id, lower-cased email) of the deactivated members among those given."""
    if not workspace_ids or not addresses:
        return set()
    email = func.lower(User.email)
    rows = db.session.execute(
        db.select(Membership.workspace_id, email)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.workspace_id.in_(sorted(workspace_ids)),
            email.in_(sorted(address.lower() for address in addresses)),
            (Membership.active == false()) | (User.active == false()),
        )
    )
    return {(workspace_id, address) for workspace_id, address in rows}


def queue_staff_emails(
    workspace_id: str,
    addresses: list[str],
    subject: str,
    text: str,
    html: str | None,
    lead_id: str | None,
) -> tuple[list[str], list[str]]:
    """Queue the email to each address but those of deactivated members; returns the
    addresses queued and the ones left out."""
    gone = deactivated_members(workspace_id, addresses)
    queued = [address for address in addresses if address.lower() not in gone]
    for address in queued:
        message = queue_email(workspace_id, address, subject, text, html, lead_id)
        message.payload[TO_STAFF] = True
    return queued, [address for address in addresses if address.lower() in gone]


def addressed_to_deactivated(messages: list[OutboxMessage]) -> set[str]:
    """The ids of the staff emails among `messages` whose recipient was deactivated since they
    were queued: one SELECT for a batch. An email waiting in the outbox (a retry after an
    SMTP failure waits up to hours) carries lead data as much as a new one."""
    staff = [m for m in messages if (m.payload or {}).get(TO_STAFF)]
    gone = _deactivated({m.workspace_id for m in staff}, {m.target for m in staff})
    return {m.id for m in staff if (m.workspace_id, m.target.lower()) in gone}
