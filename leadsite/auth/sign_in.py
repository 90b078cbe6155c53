"""Back-office sign-in and sign-out: `/login`, `/logout`."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.auth import bp
from leadsite.auth.sessions import end_session, sign_in
from leadsite.backoffice.forms import LoginForm
from leadsite.extensions import db, limiter
from leadsite.models import User, utcnow
from leadsite.passwords import hash_password, needs_rehash, verify_password

BAD_CREDENTIALS = "That email and password do not match an account."
NO_ACCESS = "This account has no access to any workspace: its administrators deactivated it."


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _submitted_email() -> str:
    return "login-email:" + request.form.get("email", "").strip().lower()


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path on this site (a line break in it would break the header)."""
    return values.local_path(target) or url_for("backoffice.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])  # per IP
@limiter.limit(_login_limit, methods=["POST"], key_func=_submitted_email)
def login() -> Response | str:
    """Sign in by email and password; one message for an unknown email or a wrong password."""
    if current_user.is_authenticated:
        return redirect(url_for("backoffice.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.scalar(db.select(User).filter_by(email=email))
        if verify_password(user.password_hash if user else None, form.password.data) and user:
            if not user.active or not user.active_memberships:
                form.email.errors.append(NO_ACCESS)
            else:
                if needs_rehash(user.password_hash):
                    user.password_hash = hash_password(form.password.data)
                user.last_login_at = utcnow()
                sign_in(user, remember=form.remember.data)
                db.session.commit()
                return redirect(_safe_next(request.args.get("next")))
        else:
            form.form_errors.append(BAD_CREDENTIALS)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    """Sign out (POST with the CSRF token, so no link elsewhere can sign a user out). The
    session is revoked on the server: a copy of its cookies signs nobody in afterwards."""
    end_session()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/")
def index() -> Response:
    """The site's root leads staff to the back-office (and so to sign-in)."""
    return redirect(url_for("backoffice.dashboard"))
