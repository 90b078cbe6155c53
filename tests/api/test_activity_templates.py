"""Activities through the funnels API: templates with unknown variables are refused with the
closest name, as in the editor; valid ones are saved."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import Activity
from tests import factories


def _stage(api):
    return factories.stage(api.funnel, "Follow-up")


def _url(api, stage) -> str:
    return f"/api/v1/funnels/{api.funnel.id}/stages/{stage.id}/activities"


def test_an_unknown_variable_is_refused_on_its_config_field(api):
    stage = _stage(api)
    config = {"subject": "You're in, {{ lead.first_nme }}!", "body": "{{ data.compnay }}"}

    response = api.client.post(
        _url(api, stage),
        headers=api.auth,
        json={"kind": "email_lead", "title": "Hi", "config": config},
    )

    assert response.status_code == 422
    assert response.json["code"] == "VALIDATION_ERROR"
    assert [(e["field"], e["message"]) for e in response.json["errors"]] == [
        ("config.subject", "Unknown variable `lead.first_nme`: did you mean `lead.first_name`?"),
        ("config.body", "Unknown variable `data.compnay`: did you mean `data.company`?"),
    ]
    assert db.session.scalar(db.select(Activity).filter_by(stage_id=stage.id)) is None


def test_a_valid_template_is_saved_and_a_patch_is_checked_the_same_way(api):
    stage = _stage(api)
    config = {"subject": "Welcome, {{ lead.first_name }}", "body": "{{ data.company }}"}

    created = api.client.post(
        _url(api, stage),
        headers=api.auth,
        json={"kind": "email_lead", "title": "Hi", "config": config},
    )
    activity_id = created.json["data"]["id"]
    refused = api.client.patch(
        f"/api/v1/activities/{activity_id}",
        headers=api.auth,
        json={"config": {"subject": "{{ journy_url }}"}},
    )
    renamed = api.client.patch(
        f"/api/v1/activities/{activity_id}", headers=api.auth, json={"title": "Welcome"}
    )

    assert created.status_code == 201 and created.json["data"]["config"] == config
    assert refused.status_code == 422
    assert refused.json["errors"][0]["message"] == (
        "Unknown variable `journy_url`: did you mean `journey_url`?"
    )
    assert renamed.status_code == 200 and renamed.json["data"]["title"] == "Welcome"
    db.session.expire_all()
    assert db.session.get(Activity, activity_id).config == config


def test_another_workspaces_stage_and_an_unknown_kind_are_refused(api):
    other = factories.stage(factories.funnel(factories.workspace("Other")), "Theirs")
    stage = _stage(api)

    foreign = api.client.post(
        f"/api/v1/funnels/{other.funnel_id}/stages/{other.id}/activities",
        headers=api.auth,
        json={"kind": "add_tag", "title": "Tag", "config": {"tag": "vip"}},
    )
    unknown = api.client.post(
        _url(api, stage), headers=api.auth, json={"kind": "teleport", "title": "Go"}
    )

    assert foreign.status_code == 404
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "kind"
