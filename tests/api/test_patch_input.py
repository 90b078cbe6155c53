"""Every PATCH field, sent null or with a value of the wrong type, gets an answer in the API's
envelope (200 or 422), never a 500, and a refused PATCH changes nothing."""

from __future__ import annotations

import pytest

from leadsite.api.schemas import DataPointPatch, LeadPatch, WebhookPatch
from leadsite.extensions import db
from leadsite.models import Lead
from tests import factories

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    "",
    " ",
    "x" * 3000,
    "\x00",
    [],
    ["a", 1, None],
    [{"a": 1}],
    {},
    {"a": None},
]


def _ids(values: list[object]) -> list[str]:
    return [repr(value)[:20] for value in values]


def _check(response) -> None:
    assert response.status_code in (200, 400, 409, 422), response.get_data(as_text=True)
    assert response.is_json and response.json["success"] is (response.status_code == 200)


@pytest.mark.parametrize("value", ODD_VALUES, ids=_ids(ODD_VALUES))
@pytest.mark.parametrize("field", sorted(LeadPatch.model_fields))
def test_every_lead_patch_field_takes_odd_values_without_a_500(api, field, value):
    lead = factories.lead(api.workspace, email="ada@example.com", opt_in=True)

    response = api.client.patch(f"/api/v1/leads/{lead.id}", headers=api.auth, json={field: value})

    _check(response)
    if response.status_code != 200:
        db.session.expire_all()
        kept = db.session.get(Lead, lead.id)
        assert (kept.email, kept.opt_in, kept.status) == ("ada@example.com", True, "new")


@pytest.mark.parametrize("value", ODD_VALUES, ids=_ids(ODD_VALUES))
@pytest.mark.parametrize("field", sorted(WebhookPatch.model_fields))
def test_every_webhook_patch_field_takes_odd_values_without_a_500(api, field, value):
    endpoint = factories.webhook_endpoint(api.workspace)

    _check(
        api.client.patch(f"/api/v1/webhooks/{endpoint.id}", headers=api.auth, json={field: value})
    )


@pytest.mark.parametrize("value", ODD_VALUES, ids=_ids(ODD_VALUES))
@pytest.mark.parametrize("field", sorted(DataPointPatch.model_fields))
def test_every_data_point_patch_field_takes_odd_values_without_a_500(api, field, value):
    point = factories.data_point(api.workspace, "tier", type="choice", choices=["A", "B"])

    _check(
        api.client.patch(f"/api/v1/data-points/{point.id}", headers=api.auth, json={field: value})
    )


@pytest.mark.parametrize("field", ["opt_in", "sms_opt_in"])
def test_a_null_opt_in_is_refused_with_a_422_on_its_field(api, field):
    lead = factories.lead(api.workspace, opt_in=True, sms_opt_in=True)

    response = api.client.patch(f"/api/v1/leads/{lead.id}", headers=api.auth, json={field: None})

    assert response.status_code == 422
    assert response.json["details"]["field"] == field


def test_custom_fields_over_16_kb_are_refused_on_patch_as_on_registration(api):
    lead = factories.lead(api.workspace)

    response = api.client.patch(
        f"/api/v1/leads/{lead.id}",
        headers=api.auth,
        json={"custom_fields": {"notes": "x" * 17_000}},
    )

    assert response.status_code == 422
    assert response.json["details"]["field"] == "custom_fields"
    assert "16 KB" in response.json["details"]["message"]


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ({"email": None}, ["email"]),
        ({"email": ""}, ["email"]),
        ({"email": None, "phone": None, "unique_id": ""}, ["email", "phone", "unique_id"]),
    ],
)
def test_a_patch_cannot_clear_a_leads_last_identifier(api, body, refused):
    lead = factories.lead(api.workspace, email="ada@example.com")

    response = api.client.patch(f"/api/v1/leads/{lead.id}", headers=api.auth, json=body)

    assert response.status_code == 422, response.get_data(as_text=True)
    errors = response.json["errors"]
    assert [error["field"] for error in errors] == refused
    assert "a lead keeps an email, a phone or a unique ID" in errors[0]["message"]
    db.session.expire_all()
    assert db.session.get(Lead, lead.id).email == "ada@example.com"


def test_a_patch_may_clear_an_identifier_when_another_stays(api):
    lead = factories.lead(api.workspace, email="ada@example.com", unique_id="crm-7")

    response = api.client.patch(f"/api/v1/leads/{lead.id}", headers=api.auth, json={"email": None})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.json["data"]["email"], response.json["data"]["unique_id"]) == (None, "crm-7")


@pytest.mark.parametrize("path", ["/api/v1/data-points/{point}", "/api/v1/webhooks/{webhook}"])
def test_a_json_body_of_blanks_alone_is_refused_as_not_json(api, path):
    """Found by schemathesis (seed 20261207): `-d ' '` with a JSON type changed nothing and
    answered 200. An empty body still means no change."""
    point = api.client.post(
        "/api/v1/data-points", json={"name": "blank_probe", "type": "text"}, headers=api.auth
    ).json["data"]["id"]
    webhook = api.client.post(
        "/api/v1/webhooks", json={"url": "https://example.com/hook"}, headers=api.auth
    ).json["data"]["id"]
    url = path.format(point=point, webhook=webhook)

    blanks = api.client.patch(url, data=" \n", content_type="application/json", headers=api.auth)
    empty = api.client.patch(url, data="", content_type="application/json", headers=api.auth)

    assert (blanks.status_code, blanks.json["code"]) == (400, "INVALID_JSON")
    assert empty.status_code == 200, empty.json
