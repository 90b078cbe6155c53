"""`/api/v1/funnels/<id>/origins` and `/api/v1/origins/<id>`: origins, mappings and hook URLs."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Origin
from tests import factories

MAPPING = {"email": "contact.email", "data.company": "org.name", "custom.plan": "plan"}


def _create(api, funnel_id=None, **body):
    return api.client.post(
        f"/api/v1/funnels/{funnel_id or api.funnel.id}/origins", json=body, headers=api.auth
    )


def test_an_api_origin_is_created_with_its_mapping_and_hook_url(api):
    response = _create(api, name="Typeform", mapping=MAPPING)

    assert response.status_code == 201
    data = response.json["data"]
    origin = db.session.get(Origin, data["id"])
    assert (data["kind"], data["name"], data["mapping"]) == ("api", "Typeform", MAPPING)
    assert data["hook_url"] == f"http://localhost/hooks/{origin.ref}/{origin.hook_secret}"
    assert len(origin.hook_secret) >= 32
    assert api.get(f"/api/v1/origins/{origin.id}").json["data"] == data
    funnel = api.get(f"/api/v1/funnels/{api.funnel.id}").json["data"]
    assert data["hook_url"] in [o["hook_url"] for o in funnel["origins"]]


def test_a_form_origin_gets_the_default_form_and_no_hook(api):
    response = _create(
        api, kind="embed", name="Footer", allowed_domains=["https://Shop.example.com/"]
    )

    data = response.json["data"]
    assert (data["kind"], data["hook_url"], data["allowed_domains"]) == (
        "embed",
        None,
        ["https://shop.example.com"],
    )
    assert db.session.get(Origin, data["id"]).form_fields


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "mapping": {"nickname": "a"}}, "mapping.nickname"),
        ({"name": "X", "mapping": {"email": "a[?"}}, "mapping.email"),
        ({"name": "X", "mapping": {"data.": "a"}}, "mapping.data."),
        ({"name": "X", "kind": "page", "mapping": {"email": "a"}}, "mapping"),
        ({"name": "X", "allowed_domains": ["example.com"]}, "allowed_domains"),
        ({"name": "X", "redirect_url": "javascript:alert(1)"}, "redirect_url"),
        ({"name": ""}, "name"),
        ({"name": "X", "kind": "fax"}, "kind"),
        ({"name": "X", "colour": "red"}, "colour"),
    ],
)
def test_bad_origins_are_refused_with_the_field(api, body, field):
    response = _create(api, **body)

    assert response.status_code == 422
    assert field in [e["field"] for e in response.json["errors"]]
    assert db.session.scalar(db.select(db.func.count(Origin.id))) == 1  # the fixture's


def test_patch_changes_the_mapping_and_null_removes_it(api):
    url = f"/api/v1/origins/{api.origin.id}"

    changed = api.client.patch(url, json={"mapping": MAPPING, "name": "Ads"}, headers=api.auth)
    removed = api.client.patch(url, json={"mapping": None}, headers=api.auth)

    assert changed.json["data"]["mapping"] == MAPPING and changed.json["data"]["name"] == "Ads"
    assert removed.json["data"]["mapping"] is None
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Origin, api.origin.id).mapping is None


def test_patch_refuses_a_bad_mapping_and_keeps_the_old(api):
    url = f"/api/v1/origins/{api.origin.id}"
    api.client.patch(url, json={"mapping": MAPPING}, headers=api.auth)

    response = api.client.patch(url, json={"mapping": {"email": "(("}}, headers=api.auth)

    assert response.status_code == 422
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Origin, api.origin.id).mapping == MAPPING


def test_another_workspaces_origins_and_funnels_are_404(api):
    other_funnel = factories.funnel(factories.workspace("Other"))
    other = factories.origin(other_funnel)

    assert api.get(f"/api/v1/origins/{other.id}").status_code == 404
    assert (
        api.client.patch(
            f"/api/v1/origins/{other.id}", json={"name": "Mine"}, headers=api.auth
        ).status_code
        == 404
    )
    assert _create(api, other_funnel.id, name="Mine").status_code == 404
