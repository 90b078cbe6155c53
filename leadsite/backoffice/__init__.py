"""The back-office, `/p/...`: staff pages, all behind sign-in and scoped to one workspace."""

from flask import Blueprint

bp = Blueprint("backoffice", __name__, url_prefix="/p")

from leadsite.backoffice import dashboard, data_points, funnels, leads, settings, workspace  # noqa: E402, F401
from leadsite.backoffice import funnel_activities, funnel_edit  # noqa: E402, F401
from leadsite.backoffice import funnel_origins, funnel_stages  # noqa: E402, F401
from leadsite.backoffice import settings_api_keys, settings_mailbox  # noqa: E402, F401
from leadsite.backoffice import settings_users, settings_webhooks  # noqa: E402, F401
from leadsite.backoffice import lead_actions, lead_bulk, lead_detail, lead_export, lead_import, lead_new  # noqa: E402, F401
