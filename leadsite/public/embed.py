"""The embeddable form: `/embed/<ref>`, the only view other sites may frame."""

from __future__ import annotations

from werkzeug.wrappers import Response

from leadsite.extensions import limiter
from leadsite.models import OriginKind
from leadsite.public import bp
from leadsite.public.form_view import form_rate_limit, form_view, rate_limit_key
from leadsite.security import frameable


@bp.route("/embed/<ref>", methods=["GET", "POST"])
@limiter.limit(form_rate_limit, key_func=rate_limit_key, methods=["POST"])
@frameable
def embed_form(ref: str) -> Response:
    """The origin's form with minimal chrome, framable by the origin's allowed domains only
    (CSP frame-ancestors); embed.js sizes the frame to it."""
    return form_view(ref, OriginKind.EMBED, embed=True)
