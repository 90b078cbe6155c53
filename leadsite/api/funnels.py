"""`GET /api/v1/funnels` and `/api/v1/funnels/<id>`: funnels with their origins and refs."""

from __future__ import annotations

from typing import Any

from flask import g, jsonify
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.openapi import operation
from leadsite.api.origins import origin_dict
from leadsite.api.schemas import FunnelListResponse, FunnelResponse
from leadsite.errors import api_error
from leadsite.extensions import db
from leadsite.models import Funnel, Scope, Stage
from leadsite.representations import iso


def funnel_dict(funnel: Funnel) -> dict[str, Any]:
    return {
        "id": funnel.id,
        "name": funnel.name,
        "description": funnel.description,
        "status": funnel.status,
        "starts_at": iso(funnel.starts_at),
        "ends_at": iso(funnel.ends_at),
        "identifier": funnel.identifier,
        "on_duplicate": funnel.on_duplicate,
        "double_opt_in": funnel.double_opt_in,
        "origins": [origin_dict(origin) for origin in funnel.origins],
        "created_at": iso(funnel.created_at),
    }


def stages_list(funnel: Funnel) -> list[dict[str, Any]]:
    return [
        {
            "id": stage.id,
            "name": stage.name,
            "position": stage.position,
            "condition": stage.condition,
            "decisions": list(stage.decisions or []),
            "otherwise": stage.otherwise,
            "activities": [
                {"id": a.id, "kind": a.kind, "title": a.title, "config": dict(a.config or {})}
                for a in stage.activities
            ],
        }
        for stage in funnel.stages
    ]


@bp.get("/funnels")
@operation(
    summary="List funnels with their origins and refs",
    tag="funnels",
    responses={200: ("Funnels", FunnelListResponse)},
    errors=(401, 429),
    scope=Scope.LEADS_READ,
)
def list_funnels() -> Response:
    """Every funnel of the workspace, oldest first."""
    funnels = db.session.scalars(
        db.select(Funnel)
        .filter_by(workspace_id=g.workspace_id)
        .options(selectinload(Funnel.origins))
        .order_by(Funnel.created_at, Funnel.id)
    )
    return jsonify(success=True, data=[funnel_dict(f) for f in funnels])


@bp.get("/funnels/<funnel_id>")
@operation(
    summary="Read a funnel with its stages, activities and origins",
    tag="funnels",
    responses={200: ("The funnel", FunnelResponse)},
    errors=(401, 404, 429),
    scope=Scope.LEADS_READ,
)
def get_funnel(funnel_id: str) -> Response:
    """One funnel; its id is the one in the back-office URL /p/funnels/edit/<id>."""
    funnel = db.session.scalar(
        db.select(Funnel)
        .filter_by(id=funnel_id, workspace_id=g.workspace_id)
        .options(selectinload(Funnel.stages).selectinload(Stage.activities))
    )
    if funnel is None:
        return api_error(404, "No such funnel", "NOT_FOUND")
    return jsonify(success=True, data={**funnel_dict(funnel), "stages": stages_list(funnel)})
