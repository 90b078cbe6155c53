"""Forgot password: `/forgot-password` emails a reset link, `/reset-password/<token>` uses it."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from leadsite.access import password_resets
from leadsite.auth import bp
from leadsite.auth.forms import ForgotPasswordForm, NewPasswordForm
from leadsite.errors import error_page
from leadsite.extensions import db, limiter

EXPIRED = (
    "This password reset link does not work: it was used already, or it expired. Ask for a new one."
)


def _reset_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


def _submitted_email() -> str:
    return "reset-email:" + request.form.get("email", "").strip().lower()


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])  # per IP
@limiter.limit(_reset_limit, methods=["POST"], key_func=_submitted_email)
def forgot_password() -> Response | tuple[str, int]:
    """Ask for a reset link by email. The answer is the same whether or not the email has an
    account, so the page tells nobody which emails do."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_resets.request_reset(form.email.data)
        db.session.commit()
        return render_template("auth/forgot_password.html", form=form, sent_to=form.email.data), 200
    status = 422 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form, sent_to=None), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | tuple[str, int]:
    """Choose a new password through the emailed link; every session of the account ends."""
    user = password_resets.user_of_token(token)
    if user is None:
        return error_page(404, EXPIRED, title="Link not valid")
    form = NewPasswordForm()
    if form.validate_on_submit():
        password_resets.reset_password(user, form.password.data)
        db.session.commit()
        flash("Your password is changed. Sign in with it.", "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form, email=user.email), status
