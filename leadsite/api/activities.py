"""`/api/v1/funnels/<id>/stages/<id>/activities` and `/api/v1/activities/<id>`: add and change a
stage's activities, checked as the back-office editor checks them (templates included)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, jsonify, request
from werkzeug.wrappers import Response

from leadsite import funnels, values
from leadsite.api import bp
from leadsite.api.activity_schemas import ActivityIn, ActivityPatch, ActivityResponse
from leadsite.api.body import read_body
from leadsite.api.errors import validation_response
from leadsite.api.openapi import operation
from leadsite.extensions import db
from leadsite.journeys.activities import validate_activity_config
from leadsite.journeys.template_check import unknown_variables, workspace_variables
from leadsite.leads import statuses as lead_statuses
from leadsite.models import Activity, ActivityKind, Funnel, Stage
from leadsite.registration.errors import FieldError

ERRORS = (400, 401, 404, 413, 415, 422, 429)
# Which config keys of which kinds are templates (what `emails.template_sources` renders).
TEMPLATE_KEYS = {
    ActivityKind.EMAIL_LEAD: ("subject", "body"),
    ActivityKind.NOTIFY_STAFF: ("subject",),
}


def activity_dict(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "stage_id": activity.stage_id,
        "position": activity.position,
        "kind": activity.kind,
        "title": activity.title,
        "config": dict(activity.config or {}),
    }


def activity_errors(kind: str, config: dict[str, Any]) -> list[FieldError]:
    """Every problem with an activity's settings, each on its field (`config.subject`)."""
    errors = []
    allow_private = current_app.config["WEBHOOK_ALLOW_PRIVATE"]
    for problem in validate_activity_config(kind, config, allow_private):
        name, _, message = problem.partition(": ")
        if message and name in config:
            errors.append(FieldError(f"config.{name}", message, config[name]))
        elif problem.startswith("unknown activity kind"):
            errors.append(FieldError("kind", problem, kind))
        else:
            errors.append(FieldError("config", problem))
    variables = workspace_variables(g.workspace_id)
    for name in TEMPLATE_KEYS.get(kind, ()):
        source = config.get(name)
        if isinstance(source, str):
            for problem in unknown_variables(source, variables):
                errors.append(FieldError(f"config.{name}", problem, source))
    status = config.get("status")
    if kind == ActivityKind.SET_STATUS and isinstance(status, str) and not errors:
        try:
            lead_statuses.known(g.workspace_id, status)
        except values.Invalid as error:
            errors.append(FieldError("config.status", f"Status {error}", status))
    return errors


def _stage_or_404(funnel_id: str, stage_id: str) -> Stage:
    stage = db.session.scalar(
        db.select(Stage)
        .join(Funnel)
        .where(Stage.id == stage_id, Funnel.id == funnel_id, Funnel.workspace_id == g.workspace_id)
    )
    if stage is None:
        abort(404, "No such stage")
    return stage


def _activity_or_404(activity_id: str) -> Activity:
    activity = db.session.scalar(
        db.select(Activity)
        .join(Stage)
        .join(Funnel)
        .where(Activity.id == activity_id, Funnel.workspace_id == g.workspace_id)
    )
    if activity is None:
        abort(404, "No such activity")
    return activity


@bp.post("/funnels/<funnel_id>/stages/<stage_id>/activities")
@operation(
    summary="Add an activity at the end of a stage",
    tag="funnels",
    body=ActivityIn,
    responses={201: ("Added", ActivityResponse)},
    errors=ERRORS,
)
def create_activity(funnel_id: str, stage_id: str) -> Response:
    """Add an activity; its settings are checked as the editor checks them (422 names each
    problem's field, e.g. an unknown template variable with what was probably meant)."""
    stage = _stage_or_404(funnel_id, stage_id)
    data = ActivityIn.model_validate(read_body(request))
    if errors := activity_errors(data.kind, data.config):
        return validation_response(errors)
    activity = funnels.add_activity(stage, data.kind, data.title, **data.config)
    db.session.commit()
    response = jsonify(success=True, data=activity_dict(activity))
    response.status_code = 201
    return response


@bp.patch("/activities/<activity_id>")
@operation(
    summary="Change an activity's title or settings",
    tag="funnels",
    body=ActivityPatch,
    responses={200: ("Changed", ActivityResponse)},
    errors=ERRORS,
)
def update_activity(activity_id: str) -> Response:
    """Change the title, or replace the settings (checked as on creation); its kind is fixed."""
    activity = _activity_or_404(activity_id)
    patch = ActivityPatch.model_validate(read_body(request))
    if patch.config is not None:
        if errors := activity_errors(activity.kind, patch.config):
            return validation_response(errors)
        activity.config = patch.config
    if patch.title is not None:
        activity.title = patch.title
    db.session.commit()
    return jsonify(success=True, data=activity_dict(activity))
