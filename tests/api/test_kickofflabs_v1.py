"""The older KickoffLabs paths many integrations still call: `POST /v1/<campaign>/subscribe`
(form fields, `api_key` among them) and `GET /v1/<campaign>/info?email=`."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.api.conftest import ApiWorld
from tests.api.kickofflabs import EXAMPLE, error_code, post_v2


def _subscribe(api: ApiWorld, **kwargs):
    return api.client.post(f"/v1/{api.origin.ref}/subscribe", **kwargs)


def _info(api: ApiWorld, campaign: str | None = None, **query: str):
    return api.client.get(f"/v1/{campaign or api.origin.ref}/info", query_string=query)


def test_subscribe_takes_form_fields_with_the_api_key_among_them(api: ApiWorld):
    response = _subscribe(api, data={**EXAMPLE, "api_key": api.key})

    assert response.status_code == 200
    assert response.json["email"] == "ada@example.com"
    lead = db.session.scalars(db.select(Lead)).one()
    assert lead.custom_fields == {"company": "Example Co"}
    assert lead.phone == "+12065550100"


def test_subscribe_takes_json_and_a_bearer_key_too(api: ApiWorld):
    response = _subscribe(api, json=EXAMPLE, headers=api.auth)

    assert response.status_code == 200 and response.json["given_name"] == "Ada"


def test_subscribe_answers_the_documented_errors(api: ApiWorld):
    no_key = _subscribe(api, data=EXAMPLE)
    unknown = api.client.post("/v1/nope/subscribe", data={**EXAMPLE, "api_key": api.key})
    invalid = _subscribe(api, data={"email": "nope", "api_key": api.key})

    assert (no_key.status_code, error_code(no_key)) == (409, "INVALID_API_ACCESS")
    assert (unknown.status_code, error_code(unknown)) == (404, "NOT_FOUND")
    assert (invalid.status_code, error_code(invalid)) == (422, "VALIDATION_ERROR")


def test_info_answers_the_lead_by_email(api: ApiWorld):
    created = post_v2(api, {**EXAMPLE, "points": 7}).json
    post_v2(api, {"email": "bob@example.com", "kid": created["social_id"]})

    response = _info(api, email="ADA@example.com", api_key=api.key)

    assert response.status_code == 200
    body = response.json
    assert body["id"] == created["id"]
    assert (body["social_id"], body["referrals"], body["contest_score"]) == (
        created["social_id"],
        1,
        7,
    )
    assert body["created"] is False
    assert body["custom_fields"] == {"company": "Example Co"}


@pytest.mark.parametrize(
    "query",
    [{"phone_number": "+1 206 555 0100"}, {"social_id": "CODE"}, {"kid": "CODE"}],
    ids=["phone", "social_id", "kid"],
)
def test_info_finds_the_lead_by_phone_or_share_code(api: ApiWorld, query: dict):
    created = post_v2(api, EXAMPLE).json
    query = {k: v.replace("CODE", created["social_id"]) for k, v in query.items()}

    response = _info(api, api_key=api.key, **query)

    assert response.status_code == 200 and response.json["id"] == created["id"]


def test_info_takes_the_key_as_a_bearer_header(api: ApiWorld):
    post_v2(api, EXAMPLE)

    response = api.client.get(f"/v1/{api.origin.ref}/info?email=ada@example.com", headers=api.auth)

    assert response.status_code == 200 and response.json["email"] == "ada@example.com"


def test_info_needs_a_key(api: ApiWorld):
    post_v2(api, EXAMPLE)

    response = _info(api, email="ada@example.com")

    assert (response.status_code, error_code(response)) == (409, "INVALID_API_ACCESS")
    assert "ada@example.com" not in response.get_data(as_text=True)


def test_info_of_an_unknown_lead_or_campaign_is_404(api: ApiWorld):
    post_v2(api, EXAMPLE)

    unknown_lead = _info(api, email="bob@example.com", api_key=api.key)
    unknown_campaign = _info(api, campaign="nope", email="ada@example.com", api_key=api.key)

    assert (unknown_lead.status_code, error_code(unknown_lead)) == (404, "LEAD_NOT_FOUND")
    assert (unknown_campaign.status_code, error_code(unknown_campaign)) == (404, "NOT_FOUND")


def test_info_does_not_answer_a_lead_of_another_campaign(api: ApiWorld):
    other = factories.origin(factories.funnel(api.workspace, "Other"), OriginKind.API)
    post_v2(api, EXAMPLE, campaign=other.ref)

    response = _info(api, email="ada@example.com", api_key=api.key)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [({}, "email"), ({"email": "not an email"}, "email")],
    ids=["nothing-to-find-by", "invalid-email"],
)
def test_info_with_nothing_valid_to_find_by_is_a_validation_error(
    api: ApiWorld, query: dict, field: str
):
    response = _info(api, api_key=api.key, **query)

    assert (response.status_code, error_code(response)) == (422, "VALIDATION_ERROR")
    assert response.json["errors"][0]["field"] == field
