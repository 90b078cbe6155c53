"""The pages leads see: hosted and embedded registration forms, confirm, unsubscribe, journey."""

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

bp = Blueprint("public", __name__)


@bp.record_once
def _configure(state: BlueprintSetupState) -> None:
    from leadsite.public.form_view import configure

    configure(state.app)


from leadsite.public import (  # noqa: E402, F401
    beacon,
    confirm,
    csp_reports,
    embed,
    errors,
    hosted,
    journey,
    journey_session,
    journey_steps,
    lead_login,
    stakeholder,
    unsubscribe,
)
