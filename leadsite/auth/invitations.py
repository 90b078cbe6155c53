"""The invitation link, `/invitations/<token>`: set a password (new account) or accept the
membership (existing account). Whoever opens it learns which, the inviting administrator not."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite.access import invitations
from leadsite.auth import bp
from leadsite.auth.forms import NewAccountForm
from leadsite.auth.sessions import sign_in
from leadsite.backoffice.forms import EmptyForm
from leadsite.backoffice.workspace import SESSION_KEY
from leadsite.errors import error_page
from leadsite.extensions import db

UNUSABLE = (
    "This invitation link does not work: it was used already, withdrawn, or it expired. "
    "Ask an administrator of the workspace to invite you again."
)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation_accept(token: str) -> Response | tuple[str, int]:
    """Accept an invitation: a new account chooses its password here and is signed in; an
    existing account joins the workspace and signs in with its own password."""
    invitation = invitations.find_invitation(token)
    if invitation is None:
        return error_page(404, UNUSABLE, title="Invitation not valid")
    account = invitations.invited_account(invitation)
    form = EmptyForm() if account is not None else NewAccountForm()
    if form.validate_on_submit():
        try:
            if account is None:
                user = invitations.accept(invitation, form.password.data, form.name.data)
            else:
                user = invitations.accept(invitation)
        except invitations.InvitationUsed:  # used from another tab at the same moment
            db.session.rollback()
            return error_page(404, UNUSABLE, title="Invitation not valid")
        workspace = invitation.workspace
        signed_in_as_invited = current_user.is_authenticated and current_user.id == user.id
        if account is None:
            sign_in(user)
        db.session.commit()
        if account is not None and not signed_in_as_invited:
            flash(f"You joined {workspace.name}. Sign in to continue.", "success")
            return redirect(url_for("auth.login"))
        session[SESSION_KEY] = workspace.id
        flash(f"Welcome to {workspace.name}.", "success")
        return redirect(url_for("backoffice.dashboard"))
    status = 422 if request.method == "POST" else 200
    template = "auth/invitation.html"
    return render_template(template, invitation=invitation, account=account, form=form), status
