"""The hosted registration page of a page origin: `/r/<ref>`."""

from __future__ import annotations

from werkzeug.wrappers import Response

from leadsite.extensions import limiter
from leadsite.models import OriginKind
from leadsite.public import bp
from leadsite.public.form_view import form_rate_limit, form_view, rate_limit_key


@bp.route("/r/<ref>", methods=["GET", "POST"])
@limiter.limit(form_rate_limit, key_func=rate_limit_key, methods=["POST"])
def registration_page(ref: str) -> Response:
    """The origin's form on a page of its own; a POST registers the lead through the pipeline."""
    return form_view(ref, OriginKind.PAGE, embed=False)
