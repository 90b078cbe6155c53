"""Invitations: an administrator adds an email, and its owner gets an expiring, single-use link
that sets the password of a new account or adds the membership to their existing one. The
administrator is told the same either way: whether the email has an account stays unknown to
them. These functions flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import aliased

from leadsite import accounts
from leadsite.access.emails import queue_account_email
from leadsite.database import hold_named_locks
from leadsite.extensions import db
from leadsite.models import Invitation, Membership, Role, User, Workspace, utcnow
from leadsite.passwords import hash_password

VALID_FOR = timedelta(days=7)
# An invitation of the same email and role made this recently is the one a repeat stands for:
# the same form sent twice at once (two tabs, two administrators, a double click).
REPEAT_WITHIN = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/invitations/{token}"


def invite(workspace: Workspace, email: str, role: Role, invited_by: User | None) -> Invitation:
    """Email `email` a link to join `workspace` as `role`; an earlier pending invitation of the
    same email to this workspace stops working (its link is replaced).

    Invitations of one email to one workspace take turns, so the later one withdraws the
    earlier even when both are sent at once: each found none pending, and both links worked.
    A repeat of an invitation made seconds ago (same email, same role) is that invitation:
    it sends nothing, so the one email on its way keeps a link that works. Each repeat used
    to send its own email, and all but the last arrived with a link already withdrawn.
    """
    email = email.strip().lower()
    hold_named_locks([f"invitation:{workspace.id}:{email}"])
    if (recent := _recent_pending(workspace.id, email, role)) is not None:
        return recent
    withdraw_pending(workspace.id, email)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        workspace_id=workspace.id,
        email=email,
        role=role.value,
        token_hash=_hash(token),
        invited_by_id=invited_by.id if invited_by else None,
        expires_at=utcnow() + VALID_FOR,
    )
    db.session.add(invitation)
    db.session.flush()
    inviter = (invited_by.name or invited_by.email) if invited_by else None
    queue_account_email(
        workspace,
        email,
        f"You are invited to {workspace.name} on leadsite",
        "invitation",
        url=invitation_url(token),
        inviter=inviter,
        role=role.value,
        expires_at=invitation.expires_at,
    )
    return invitation


def _recent_pending(workspace_id: str, email: str, role: Role) -> Invitation | None:
    """A pending invitation of `email` as `role` made within `REPEAT_WITHIN`, if any (read
    once this invitation has its turn, so one committed meanwhile is seen)."""
    now = utcnow()
    return db.session.scalar(
        db.select(Invitation)
        .filter_by(
            workspace_id=workspace_id,
            email=email,
            role=role.value,
            accepted_at=None,
            revoked_at=None,
        )
        .where(Invitation.created_at > now - REPEAT_WITHIN, Invitation.expires_at > now)
        .order_by(Invitation.created_at.desc())
        .limit(1)
    )


def withdraw_pending(workspace_id: str, email: str) -> int:
    """Withdraw the pending invitations of `email` to this workspace; how many there were."""
    return db.session.execute(
        db.update(Invitation)
        .filter_by(workspace_id=workspace_id, email=email, accepted_at=None, revoked_at=None)
        .values(revoked_at=utcnow())
    ).rowcount


def withdraw_sent_by(workspace_id: str, user_id: str) -> int:
    """Withdraw the pending invitations `user_id` sent to this workspace, as they lose access
    to it: someone who can no longer come in should not bring anyone in later either. How
    many there were. An invitation accepted meanwhile stays accepted (PostgreSQL re-reads a
    row it waited for)."""
    return db.session.execute(
        db.update(Invitation)
        .filter_by(workspace_id=workspace_id, invited_by_id=user_id, accepted_at=None)
        .where(Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .values(revoked_at=utcnow())
    ).rowcount


def withdrawn_with_sender(workspace_id: str) -> list[tuple[Invitation, User]]:
    """Invitations withdrawn whose sender is now deactivated here, and which would still work
    otherwise (so the list empties as their 7 days pass), with the sender; newest first. An
    email invited again since, or a member now, is left out: nothing is left to decide."""
    now = utcnow()
    sender_membership = aliased(Membership)
    current = (
        db.select(Invitation.email)
        .filter_by(workspace_id=workspace_id, accepted_at=None, revoked_at=None)
        .where(Invitation.expires_at > now)
    )
    members = (
        db.select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id)
    )
    return [
        (invitation, sender)
        for invitation, sender in db.session.execute(
            db.select(Invitation, User)
            .join(User, User.id == Invitation.invited_by_id)
            .join(
                sender_membership,
                (sender_membership.user_id == User.id)
                & (sender_membership.workspace_id == workspace_id),
            )
            .where(
                Invitation.workspace_id == workspace_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_not(None),
                Invitation.expires_at > now,
                sender_membership.active.is_(False) | User.active.is_(False),
                Invitation.email.not_in(current),
                Invitation.email.not_in(members),
            )
            .order_by(Invitation.created_at.desc())
        )
    ]


def pending_invitations(workspace_id: str) -> list[Invitation]:
    """The workspace's invitations whose link still works, newest first."""
    return list(
        db.session.scalars(
            db.select(Invitation)
            .filter_by(workspace_id=workspace_id, accepted_at=None, revoked_at=None)
            .where(Invitation.expires_at > utcnow())
            .order_by(Invitation.created_at.desc())
        )
    )


def find_invitation(token: str) -> Invitation | None:
    """The invitation of a link, while it is unused, not withdrawn and not expired."""
    invitation = db.session.scalar(db.select(Invitation).filter_by(token_hash=_hash(token)))
    return invitation if invitation is not None and invitation.pending else None


def invited_account(invitation: Invitation) -> User | None:
    """The account the invited email already has, if any (asked when the link is opened, so an
    account made since the invitation counts)."""
    return db.session.scalar(db.select(User).filter_by(email=invitation.email))


class InvitationUsed(Exception):
    """The invitation was used (or withdrawn, or expired) while this request read it."""


def _spend(invitation: Invitation, now: datetime) -> None:
    """Mark the invitation used in the statement that checks it is still pending: the link
    opened in several tabs and sent from each at once made the account in each (the email
    is unique: all but one answered 500)."""
    spent = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(accepted_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise InvitationUsed()
    invitation.accepted_at = now


def accept(invitation: Invitation, password: str | None = None, name: str | None = None) -> User:
    """Use the invitation: a new account gets `password` (and `name`); an existing one keeps its
    password and only gains the membership, active, with the invited role. `InvitationUsed`
    when another request used it first."""
    now = utcnow()
    _spend(invitation, now)
    user = invited_account(invitation)
    if user is None:
        if not password:
            raise ValueError("A new account needs a password.")
        user = User(
            email=invitation.email, name=name or None, password_hash=hash_password(password)
        )
        db.session.add(user)
        db.session.flush()
    membership: Membership = accounts.add_member(user, invitation.workspace, Role(invitation.role))
    membership.active = True
    db.session.flush()
    return user
