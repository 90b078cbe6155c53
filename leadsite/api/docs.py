"""`/api/docs`: Swagger UI for the API, served from vendored files (works offline)."""

from __future__ import annotations

from flask import Blueprint, render_template

SWAGGER_UI_VERSION = "5.35.0"

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs")
def api_docs() -> str:
    """Interactive API documentation with a bearer-key "Authorize" button."""
    return render_template("api/docs.html", swagger_ui_version=SWAGGER_UI_VERSION)
