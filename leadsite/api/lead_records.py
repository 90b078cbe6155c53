"""`GET/PATCH/DELETE /api/v1/leads/<id>`: read, edit and erase one lead."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from leadsite.api import bp
from leadsite.api.body import canonical, read_body
from leadsite.api.lookup import scoped_or_404
from leadsite.api.openapi import operation
from leadsite.api.schemas import LeadPatch, LeadResponse
from leadsite.extensions import db
from leadsite.journeys.conversions import converted_funnels
from leadsite.leads.changes import erase_lead, update_lead
from leadsite.models import Lead, Scope, Workspace
from leadsite.representations import journey_summary, lead_dict

PATCH_FIELDS = {canonical(name): name for name in LeadPatch.model_fields}


def _lead_response(lead: Lead) -> Response:
    return jsonify(
        success=True,
        data={
            **lead_dict(lead),
            "converted_funnels": converted_funnels([lead.id]).get(lead.id, []),
            "journeys": [journey_summary(j) for j in lead.journeys],
        },
    )


@bp.get("/leads/<not(batch):lead_id>")
@operation(
    summary="Read a lead with its journeys",
    tag="leads",
    responses={200: ("The lead", LeadResponse)},
    errors=(401, 404, 429),
    scope=Scope.LEADS_READ,
)
def get_lead(lead_id: str) -> Response:
    """One lead of the workspace."""
    return _lead_response(scoped_or_404(Lead, lead_id, "lead"))


@bp.patch("/leads/<not(batch):lead_id>")
@operation(
    summary="Change a lead's fields",
    tag="leads",
    body=LeadPatch,
    responses={200: ("The changed lead", LeadResponse)},
    errors=(400, 401, 404, 409, 413, 415, 422, 429),
    scope=Scope.LEADS_WRITE,
)
def update_lead_fields(lead_id: str) -> Response:
    """Change the given fields (keys matched ignoring case, `_` and `-`)."""
    lead = scoped_or_404(Lead, lead_id, "lead")
    body: dict[str, Any] = {
        PATCH_FIELDS.get(canonical(str(k)), str(k)): v for k, v in read_body(request).items()
    }
    patch = LeadPatch.model_validate(body)
    workspace = db.session.get(Workspace, lead.workspace_id)
    update_lead(lead, patch.model_dump(exclude_unset=True), workspace.default_country)
    db.session.commit()
    return _lead_response(lead)


@bp.delete("/leads/<not(batch):lead_id>")
@operation(
    summary="Erase a lead's personal data (the anonymous row stays)",
    tag="leads",
    responses={200: ("The erased lead", LeadResponse)},
    errors=(401, 404, 429),
    scope=Scope.LEADS_WRITE,
)
def erase_lead_data(lead_id: str) -> Response:
    """Erase personal data; the row keeps its id, journeys and counts."""
    lead = scoped_or_404(Lead, lead_id, "lead")
    erase_lead(lead)
    db.session.commit()
    return _lead_response(lead)
