"""Your account, `/p/account`: every staff member changes their own password here (that signs
out their other sessions), sees where they are signed in, and signs out everywhere else."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import Field, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length, ValidationError

from leadsite.access.sessions import live_sessions, revoke_sessions
from leadsite.auth.sessions import current_session_id
from leadsite.backoffice import bp
from leadsite.backoffice.forms import EmptyForm
from leadsite.extensions import db, limiter
from leadsite.htmx import render_page_or_block
from leadsite.passwords import MIN_LENGTH, hash_password, verify_password

# Marks a request whose current password was wrong; on the request, as each limit reads it.
WRONG_GUESS = "leadsite.wrong_current_password"


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
            request.environ[WRONG_GUESS] = True  # counted by the rate limits (`_guessed_wrong`)
            raise ValidationError("That is not your current password.")

    def validate_new_password(self, field: Field) -> None:
        if field.data and field.data == self.current_password.data:
            raise ValidationError("Choose a password other than your current one.")


def _guess_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _this_user() -> str:
    # Checked before the back-office's sign-in check: a signed-out visitor has no id.
    return f"account-password:{getattr(current_user, 'id', 'anonymous')}"


def _this_address() -> str:
    return f"account-password-ip:{get_remote_address()}"


def _guessed_wrong(response: Response) -> bool:
    """Only wrong current passwords count: a stolen session must not try one after another."""
    return bool(request.environ.get(WRONG_GUESS))


def _page(form: PasswordForm, status: int = 200) -> Response:
    return render_page_or_block(
        "backoffice/account.html",
        "password_form",
        status=status,
        form=form,
        sessions=live_sessions(current_user.id),
        current_session=current_session_id(),
        revoke_form=EmptyForm(formdata=None),
    )


@bp.route("/account", methods=["GET", "POST"])
@limiter.limit(_guess_limit, methods=["POST"], key_func=_this_user, deduct_when=_guessed_wrong)
@limiter.limit(_guess_limit, methods=["POST"], key_func=_this_address, deduct_when=_guessed_wrong)
def account() -> Response:
    """Change your password: the current one, then the new one twice. Wrong current passwords
    are rate-limited per user and per address, like sign-in."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        user.password_hash = hash_password(form.new_password.data)
        # Whoever knew the old password may hold a session: every other one ends.
        revoke_sessions(user.id, keep=current_session_id())
        db.session.commit()
        flash("Your password was changed. Your other sessions are signed out.", "success")
        return redirect(url_for("backoffice.account"))
    return _page(form, status=422 if request.method == "POST" else 200)


@bp.post("/account/sessions/revoke")
def account_sessions_revoke() -> Response:
    """Sign out everywhere else: every other session of yours ends, remember-me cookies too."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    count = revoke_sessions(current_user.id, keep=current_session_id())
    db.session.commit()
    others = "1 other session" if count == 1 else f"{count} other sessions"
    flash(f"Signed out of {others}.", "success")
    return redirect(url_for("backoffice.account"))
