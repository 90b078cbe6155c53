"""The API accepts only the workspace's managed statuses: registration, PATCH and the
`set_status` activity answer 422 on `status`, listing the known keys."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import Lead
from tests import factories

ALLOWED = "must be one of these statuses: new, contacted, qualified, customer, lost"


def _status_of(lead: Lead) -> str:
    db.session.expire_all()
    return db.session.get(Lead, lead.id).status


def test_api_registration_refuses_an_unknown_status_listing_the_known_ones(api):
    response = api.register({"email": "ada@example.com", "status": "hot"})

    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"
    assert response.json["details"] == {
        "field": "status",
        "message": f"Status {ALLOWED}",
        "value": "hot",
    }
    assert db.session.scalar(db.select(Lead).filter_by(email="ada@example.com")) is None


def test_api_patch_refuses_an_unknown_status_and_accepts_a_known_one(api):
    lead = factories.lead(api.workspace)
    url = f"/api/v1/leads/{lead.id}"

    refused = api.client.patch(url, headers=api.auth, json={"status": "hot"})
    accepted = api.client.patch(url, headers=api.auth, json={"status": "qualified"})

    assert refused.status_code == 422
    assert refused.json["details"]["field"] == "status"
    assert ALLOWED in refused.json["details"]["message"]
    assert accepted.status_code == 200 and _status_of(lead) == "qualified"


def test_api_set_status_activity_refuses_an_unknown_status(api):
    stage = api.funnel.stages[0]
    url = f"/api/v1/funnels/{api.funnel.id}/stages/{stage.id}/activities"
    body = {"kind": "set_status", "title": "Warm up", "config": {"status": "warm"}}

    response = api.client.post(url, headers=api.auth, json=body)

    assert response.status_code == 422
    assert response.json["details"]["field"] == "config.status"
    assert ALLOWED in response.json["details"]["message"]
