"""Settings, API keys (administrators only): create one (its secret shown once), revoke."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from werkzeug.wrappers import Response

from leadsite import accounts
from leadsite.backoffice import bp
from leadsite.backoffice.settings_forms import ApiKeyForm
from leadsite.backoffice.workspace import administrator_required
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.models import ApiKey, User

TEMPLATE = "backoffice/settings/api_keys.html"


def workspace_keys(workspace_id: str) -> list[ApiKey]:
    """The workspace's keys: active ones first, newest first."""
    return list(
        db.session.scalars(
            db.select(ApiKey)
            .filter_by(workspace_id=workspace_id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc())
        )
    )


def _page(
    form: ApiKeyForm, block: str = "api_keys", status: int = 200, **extra: object
) -> Response:
    """The list and the form: the whole page, or `block` for htmx."""
    keys = workspace_keys(g.workspace.id)
    creator_ids = {key.created_by_id for key in keys if key.created_by_id}
    creators = {
        user.id: user.name or user.email
        for user in db.session.scalars(db.select(User).where(User.id.in_(creator_ids)))
    }
    return render_page_or_block(
        TEMPLATE, block, status=status, form=form, keys=keys, creators=creators, **extra
    )


@bp.get("/settings/api-keys")
@administrator_required
def api_keys_index() -> Response:
    """The workspace's API keys: name, prefix, created, last used; the form to add one."""
    return _page(ApiKeyForm(formdata=None))


@bp.post("/settings/api-keys")
@administrator_required
def api_key_create() -> Response:
    """Create a key and show its secret this once: only its SHA-256 is stored."""
    form = ApiKeyForm()
    if not form.validate_on_submit():
        return _page(form, "api_key_form", status=422)
    key, secret = accounts.create_api_key(g.workspace, form.name.data, created_by=g.membership.user)
    db.session.commit()
    flash(
        f"API key “{key.name}” created. Copy its secret now: it will not be shown again.", "success"
    )
    # Rendered, not redirected: the secret must not travel through the session cookie.
    return _page(ApiKeyForm(formdata=None), new_key=key, new_secret=secret)


@bp.post("/settings/api-keys/<key_id>/revoke")
@administrator_required
def api_key_revoke(key_id: str) -> Response:
    """Revoke a key: requests with it get 401 from now on. It stays listed, greyed out."""
    key = db.session.scalar(db.select(ApiKey).filter_by(id=key_id, workspace_id=g.workspace.id))
    if key is None:
        abort(404)
    accounts.revoke_api_key(key)
    db.session.commit()
    flash(f"API key “{key.name}” revoked.", "success")
    if not is_htmx():
        return redirect(url_for("backoffice.api_keys_index"))
    return _page(ApiKeyForm(formdata=None))
