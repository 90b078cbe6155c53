"""Settings, API keys (administrators only): create a secret key with its scopes (its secret
shown once) or a publishable key bound to API origins; revoke."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from werkzeug.wrappers import Response

from leadsite import accounts
from leadsite.access.members import active_among
from leadsite.backoffice import bp
from leadsite.backoffice.settings_forms import PUBLISHABLE, ApiKeyForm
from leadsite.backoffice.workspace import administrator_required
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.models import ApiKey, Funnel, Origin, OriginKind, User

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


def api_origins(workspace_id: str) -> list[Origin]:
    """The workspace's API origins, which publishable keys are bound to, by funnel and name."""
    return list(
        db.session.scalars(
            db.select(Origin)
            .join(Origin.funnel)
            .filter(Origin.workspace_id == workspace_id, Origin.kind == OriginKind.API)
            .order_by(Funnel.name, Origin.name)
        )
    )


def _form(origins: list[Origin], blank: bool = False) -> ApiKeyForm:
    if blank:
        return ApiKeyForm(formdata=None, origins=origins)
    return ApiKeyForm(origins=origins)


def _page(
    form: ApiKeyForm, block: str = "api_keys", status: int = 200, **extra: object
) -> Response:
    """The list and the form: the whole page, or `block` for htmx."""
    keys = workspace_keys(g.workspace.id)
    origin_names = {origin_id: origin.name for origin_id, origin in form.origins.items()}
    creator_ids = {key.created_by_id for key in keys if key.created_by_id}
    creators = {
        user.id: user.name or user.email
        for user in db.session.scalars(db.select(User).where(User.id.in_(creator_ids)))
    }
    # A key outlives its maker's access (it is the workspace's integration): saying they are
    # gone tells the administrators which keys to rotate.
    still_here = active_among(g.workspace.id, creator_ids)
    return render_page_or_block(
        TEMPLATE,
        block,
        status=status,
        form=form,
        keys=keys,
        creators=creators,
        deactivated_creators=set(creators) - still_here,
        origin_names=origin_names,
        **extra,
    )


@bp.get("/settings/api-keys")
@administrator_required
def api_keys_index() -> Response:
    """The workspace's API keys: name, kind and scopes, prefix, created, last used; the form
    to add one."""
    return _page(_form(api_origins(g.workspace.id), blank=True))


@bp.post("/settings/api-keys")
@administrator_required
def api_key_create() -> Response:
    """Create a secret key and show its secret this once (only its SHA-256 is stored), or a
    publishable key, which the snippets of its origins show from now on."""
    origins = api_origins(g.workspace.id)
    form = _form(origins)
    if not form.validate_on_submit():
        return _page(form, "api_key_form", status=422)
    user = g.membership.user
    if form.kind.data == PUBLISHABLE:
        key = accounts.create_publishable_key(
            g.workspace, form.name.data, form.origin_ids.data, created_by=user
        )
        db.session.commit()
        flash(f"Publishable key “{key.name}” created.", "success")
        return _page(_form(origins, blank=True), new_key=key, new_secret=key.token)
    key, secret = accounts.create_api_key(
        g.workspace, form.name.data, created_by=user, scopes=form.scopes.data
    )
    db.session.commit()
    flash(
        f"API key “{key.name}” created. Copy its secret now: it will not be shown again.", "success"
    )
    # Rendered, not redirected: the secret must not travel through the session cookie.
    return _page(_form(origins, blank=True), new_key=key, new_secret=secret)


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
    return _page(_form(api_origins(g.workspace.id), blank=True))
