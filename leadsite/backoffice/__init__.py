"""The back-office, `/p/...`: staff pages, all behind sign-in and scoped to one workspace."""

from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/p")

from leadsite.backoffice import dashboard, data_points, funnels, leads, settings, workspace  # noqa: E402, F401
