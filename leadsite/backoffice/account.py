"""Your account, `/p/account`: every staff member changes their own password here; that signs
out their other sessions."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from leadsite.access.sessions import revoke_sessions
from leadsite.auth.sessions import current_session_id
from leadsite.backoffice import bp
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.passwords import MIN_LENGTH, hash_password, verify_password


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[InputRequired(), Length(max=1024)]
    )
    new_password = PasswordField(
        "New password",
        validators=[
            InputRequired(),
            Length(min=MIN_LENGTH, max=1024, message="Use %(min)d characters or more."),
        ],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[InputRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )

    def validate_current_password(self, field: Field) -> None:
        if not verify_password(current_user.password_hash, field.data):
            raise ValidationError("That is not your current password.")

    def validate_new_password(self, field: Field) -> None:
        if field.data and field.data == self.current_password.data:
            raise ValidationError("Choose a password other than your current one.")


@bp.route("/account", methods=["GET", "POST"])
def account() -> object:
    """Change your password: the current one, then the new one twice."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        user.password_hash = hash_password(form.new_password.data)
        # Whoever knew the old password may hold a session: every other one ends.
        revoke_sessions(user.id, keep=current_session_id())
        db.session.commit()
        flash("Your password was changed. Your other sessions are signed out.", "success")
        return redirect(url_for("backoffice.account"))
    status = 422 if request.method == "POST" else 200
    return render_page_or_block(
        "backoffice/account.html", "password_form", status=status, form=form
    )
