"""Settings, users (administrators only): invite someone, change their role, deactivate them."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite.access import departures, invitations
from leadsite.backoffice import bp
from leadsite.backoffice.settings_forms import RoleForm, UserForm
from leadsite.backoffice.workspace import administrator_required, lock_memberships
from leadsite.errors import error_page
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.models import Invitation, Membership, Role, User, utcnow

TEMPLATE = "backoffice/settings/users.html"


def members(workspace_id: str) -> list[Membership]:
    """The workspace's memberships with their users, by email."""
    return list(
        db.session.scalars(
            db.select(Membership)
            .join(Membership.user)
            .where(Membership.workspace_id == workspace_id)
            .order_by(User.email)
        )
    )


def _membership_or_404(membership_id: str) -> Membership:
    membership = db.session.scalar(
        db.select(Membership).filter_by(id=membership_id, workspace_id=g.workspace.id)
    )
    if membership is None:
        abort(404)
    return membership


def _administrators_left(without: Membership) -> int:
    """Active administrators of the workspace other than `without`, counted with every
    membership of the workspace locked and read afresh (`administrator_required` locked them):
    two administrators demoting (or deactivating) each other at once each counted the other
    and left the workspace with none."""
    locked = lock_memberships(g.workspace.id)
    return sum(1 for m in locked if m.is_administrator and m.active and m.id != without.id)


def _page(form: UserForm, block: str = "users", status: int = 200, **extra: object) -> Response:
    return render_page_or_block(
        TEMPLATE,
        block,
        status=status,
        form=form,
        members=members(g.workspace.id),
        role_form=RoleForm(formdata=None),
        invitations=invitations.pending_invitations(g.workspace.id),
        withdrawn=invitations.withdrawn_with_sender(g.workspace.id),
        **extra,
    )


def _done(message: str, category: str = "success") -> Response:
    flash(message, category)
    if not is_htmx():
        return redirect(url_for("backoffice.users_index"))
    return _page(UserForm(formdata=None))


def _refused(message: str) -> Response:
    """A change that would lock the workspace out: 409, the list left as it was."""
    return error_page(409, message, title="Not changed")


@bp.get("/settings/users")
@administrator_required
def users_index() -> Response:
    """The workspace's users with their role, status and last sign-in; the form to add one."""
    return _page(UserForm(formdata=None))


@bp.post("/settings/users")
@administrator_required
def user_create() -> Response:
    """Invite someone: they get an emailed link to set their password (new account) or to
    accept (existing account). The answer is the same either way, so it does not tell the
    administrator whether the email has an account."""
    form = UserForm()
    if not form.validate_on_submit():
        return _page(form, "user_form", status=422)
    email = form.email.data.lower()
    user = db.session.scalar(db.select(User).filter_by(email=email))
    # Only this workspace's members, whom the administrator sees in the list anyway.
    if user is not None and user.membership_in(g.workspace.id):
        form.email.errors.append(f"{email} is already a user of this workspace.")
        return _page(form, "user_form", status=422)
    asked_at = utcnow()
    invitation = invitations.invite(g.workspace, email, Role(form.role.data), current_user)
    db.session.commit()
    if invitation.created_at < asked_at:  # a repeat: the invitation made moments ago stands
        return _done(
            f"{email} was invited as {form.role.data} less than a minute ago: that email is on "
            "its way and its link works for 7 days. Nothing was sent again."
        )
    return _done(f"Invitation sent to {email}, as {form.role.data}. The link works for 7 days.")


@bp.post("/settings/users/invitations/<invitation_id>/withdraw")
@administrator_required
def invitation_withdraw(invitation_id: str) -> Response:
    """Withdraw a pending invitation: its link stops working."""
    invitation = db.session.scalar(
        db.select(Invitation).filter_by(id=invitation_id, workspace_id=g.workspace.id)
    )
    if invitation is None:
        abort(404)
    invitations.withdraw_pending(g.workspace.id, invitation.email)
    db.session.commit()
    return _done(f"The invitation of {invitation.email} is withdrawn.")


@bp.post("/settings/users/<membership_id>/role")
@administrator_required
def user_role(membership_id: str) -> Response:
    """Change someone's role; the last active administrator stays one."""
    membership = _membership_or_404(membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _refused("Choose administrator or manager.")
    if membership.user_id == current_user.id:
        return _refused("You cannot change your own role: ask another administrator.")
    demoting = membership.is_administrator and form.role.data != Role.ADMINISTRATOR
    if demoting and not _administrators_left(membership):
        return _refused("The workspace needs at least one active administrator.")
    membership.role = form.role.data
    db.session.commit()
    return _done(f"{membership.user.email} is now {membership.role}.")


@bp.post("/settings/users/<membership_id>/deactivate")
@administrator_required
def user_deactivate(membership_id: str) -> Response:
    """Stop someone using this workspace, at once in every session; their other workspaces,
    which this administrator does not run, stay open to them."""
    membership = _membership_or_404(membership_id)
    user = membership.user
    if user.id == current_user.id:
        return _refused("You cannot deactivate yourself.")
    if membership.is_administrator and not _administrators_left(membership):
        return _refused("The workspace needs at least one active administrator.")
    departure = departures.deactivate(membership)
    db.session.commit()
    return _done(
        f"{user.email} is deactivated: they no longer have access to {g.workspace.name}."
        + _left_behind(departure)
    )


def _left_behind(departure: departures.Departure) -> str:
    """What the deactivation did besides, in sentences (none when nothing)."""
    said = ""
    if departure.invitations:
        said += f" {_count(departure.invitations, 'invitation')} they sent withdrawn."
    if departure.tasks:
        said += f" {_count(departure.tasks, 'open task')} now unassigned, for the team to pick up."
    if departure.funnel_tasks:
        said += (
            f" {_count(departure.funnel_tasks, 'funnel task')} that named them now "
            "assigned to nobody in particular."
        )
    return said


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@bp.post("/settings/users/<membership_id>/activate")
@administrator_required
def user_activate(membership_id: str) -> Response:
    """Give a deactivated user access to this workspace again (and to no other). What their
    deactivation withdrew stays withdrawn: tasks others may have picked up, invitations."""
    membership = _membership_or_404(membership_id)
    membership.active = True
    db.session.commit()
    return _done(f"{membership.user.email} has access to {g.workspace.name} again.")
