"""`/api/v1/data-points`: one that a funnel uses is not deleted (409 listing the uses); archive."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import ActivityKind, DataPoint
from tests import factories


def _point(name: str) -> DataPoint:
    return db.session.scalar(db.select(DataPoint).filter_by(name=name))


def test_a_data_point_a_stage_and_an_email_use_is_refused_with_the_uses(api):
    condition = {"rules": [{"field": "data.team_size", "op": "gt", "value": 10}]}
    stage = factories.stage(api.funnel, "Sales review", condition=condition)
    email = factories.activity(
        stage, ActivityKind.EMAIL_LEAD, "Intro", subject="For {{ data.team_size }} people"
    )
    point = _point("team_size")

    response = api.client.delete(f"/api/v1/data-points/{point.id}", headers=api.auth)

    assert response.status_code == 409
    body = response.json
    assert body["code"] == "DATA_POINT_IN_USE"
    assert body["error"] == "“Team size” cannot be deleted: 2 places use it."
    assert body["details"]["journeys"] == 0
    uses = body["details"]["uses"]
    assert [(use["kind"], use["stage_id"], use["activity_id"]) for use in uses] == [
        ("condition", stage.id, None),
        ("template", stage.id, email.id),
    ]
    assert body["details"]["uses"][0]["where"] == (
        "The condition of stage “Sales review” of funnel “Onboarding”"
    )
    assert _point("team_size") is not None


def test_an_unused_data_point_is_deleted(api):
    point = _point("plan")

    response = api.client.delete(f"/api/v1/data-points/{point.id}", headers=api.auth)

    assert response.status_code == 200 and _point("plan") is None


def test_archive_through_patch_shows_in_the_list_and_its_filter(api):
    point = _point("plan")

    archived = api.client.patch(
        f"/api/v1/data-points/{point.id}", headers=api.auth, json={"archived": True}
    )
    only_archived = api.get("/api/v1/data-points?archived=true")
    only_active = api.get("/api/v1/data-points?archived=false")
    everything = api.get("/api/v1/data-points")
    bad_filter = api.get("/api/v1/data-points?archived=maybe")
    restored = api.client.patch(
        f"/api/v1/data-points/{point.id}", headers=api.auth, json={"archived": False}
    )

    assert archived.status_code == 200
    assert archived.json["data"]["archived"] is True and archived.json["data"]["archived_at"]
    assert [p["name"] for p in only_archived.json["data"]] == ["plan"]
    assert [p["name"] for p in only_active.json["data"]] == ["company", "team_size"]
    assert {p["name"]: p["archived"] for p in everything.json["data"]} == {
        "company": False,
        "plan": True,
        "team_size": False,
    }
    assert bad_filter.status_code == 422
    assert bad_filter.json["errors"][0]["field"] == "archived"
    assert restored.json["data"]["archived"] is False
    assert restored.json["data"]["archived_at"] is None
