"""Funnel editor: the sites seen framing an embed origin without being allowed; allow one
(it joins the origin's allowed sites) or dismiss it."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from werkzeug.wrappers import Response

from leadsite.backoffice import bp
from leadsite.backoffice.funnel_changes import find_origin
from leadsite.backoffice.funnel_edit import funnel_or_404
from leadsite.embed_violations import allow_violation, dismiss_violation
from leadsite.extensions import db
from leadsite.models import EmbedViolation, Origin


def _violation_or_404(
    funnel_id: str, origin_id: str, violation_id: str
) -> tuple[Origin, EmbedViolation]:
    """The origin of the current workspace's funnel and one of its violations, else 404."""
    origin = find_origin(funnel_or_404(funnel_id), origin_id)
    if origin is None:
        abort(404)
    violation = db.session.scalar(
        db.select(EmbedViolation).filter_by(id=violation_id, origin_id=origin.id)
    )
    if violation is None:
        abort(404)
    return origin, violation


def _origin_page(origin: Origin) -> Response:
    return redirect(
        url_for("backoffice.origin_edit", funnel_id=origin.funnel_id, origin_id=origin.id)
        + "#embed-violations"
    )


@bp.post("/funnels/edit/<funnel_id>/origins/<origin_id>/violations/<violation_id>/allow")
def origin_violation_allow(funnel_id: str, origin_id: str, violation_id: str) -> Response:
    """Add the site that framed the embed to the origin's allowed sites."""
    origin, violation = _violation_or_404(funnel_id, origin_id, violation_id)
    host = violation.host
    allow_violation(origin, violation)
    db.session.commit()
    flash(f"{host} added to the allowed sites: it can show the form now.", "success")
    return _origin_page(origin)


@bp.post("/funnels/edit/<funnel_id>/origins/<origin_id>/violations/<violation_id>/dismiss")
def origin_violation_dismiss(funnel_id: str, origin_id: str, violation_id: str) -> Response:
    """Forget a site that framed the embed; it is listed again if it frames it again."""
    origin, violation = _violation_or_404(funnel_id, origin_id, violation_id)
    dismiss_violation(violation)
    db.session.commit()
    flash(f"{violation.host} dismissed.", "success")
    return _origin_page(origin)
