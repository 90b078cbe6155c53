"""The back-office, `/p/...`: staff pages, all behind sign-in and scoped to one workspace."""

from flask import Blueprint

from leadsite.security import refuse_nul_before_the_view

bp = Blueprint("backoffice", __name__, url_prefix="/p")
bp.before_request(refuse_nul_before_the_view)

from leadsite.backoffice import (  # noqa: E402, F401  (each module adds its views to bp)
    account,
    dashboard,
    data_points,
    funnel_activities,
    funnel_analytics,
    funnel_decisions,
    funnel_edit,
    funnel_email_tools,
    funnel_origin_violations,
    funnel_origins,
    funnel_stages,
    funnel_wait_forms,  # registers the wait-until activity form
    funnels,
    journeys,
    lead_actions,
    lead_board,
    lead_bulk,
    lead_detail,
    lead_export,
    lead_files,
    lead_held,
    lead_import,
    lead_new,
    lead_stakeholders,
    lead_views,
    leads,
    origin_translations,
    settings,
    settings_api_keys,
    settings_mailbox,
    settings_statuses,
    settings_users,
    settings_webhooks,
    tasks,
    workspace,
)
