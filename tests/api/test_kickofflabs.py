"""The KickoffLabs dialect, `POST /v2/<campaign>/`: the document's requests as written, with
only the host and key changed, and every parameter and error it describes."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Funnel, FunnelStatus, IngestionEntry, Lead, OriginKind, utcnow
from tests import factories
from tests.api.conftest import ApiWorld
from tests.api.kickofflabs import EXAMPLE, error_code, post_v2


def _lead(api: ApiWorld, **filters: object) -> Lead:
    db.session.expire_all()
    return db.session.scalars(
        db.select(Lead).filter_by(workspace_id=api.workspace.id, **filters)
    ).one()


def test_the_documents_example_request_creates_the_lead(api: ApiWorld):
    response = post_v2(api, EXAMPLE)

    assert response.status_code == 200
    body = response.json
    lead = _lead(api)
    assert body["id"] == lead.id
    assert body["email"] == "ada@example.com"
    assert body["phone_number"] == "+12065550100"
    assert body["given_name"] == "Ada"
    assert body["custom_fields"] == {"company": "Example Co"}
    assert body["counter"] == 1
    assert body["created"] is True
    assert body["social_id"] == lead.social_id and len(lead.social_id) == 8
    assert body["referrals"] == 0 and body["contest_score"] == 0
    assert body["url"].startswith("http://localhost/j/")
    assert body["unsubscribe_url"].startswith("http://localhost/unsubscribe/")
    assert (lead.first_name, lead.phone, lead.custom_fields) == (
        "Ada",
        "+12065550100",
        {"company": "Example Co"},
    )
    assert lead.journeys[0].funnel_id == api.funnel.id


@pytest.mark.parametrize("path", ["/v2/{ref}/", "/v2/{ref}"])
def test_the_path_works_with_and_without_its_trailing_slash(api: ApiWorld, path: str):
    response = api.client.post(path.format(ref=api.origin.ref), json=EXAMPLE, headers=api.auth)

    assert response.status_code == 200
    assert _lead(api).email == "ada@example.com"


def test_a_form_encoded_request_with_api_key_in_the_body(api: ApiWorld):
    response = post_v2(api, headers={}, data={**EXAMPLE, "api_key": api.key})

    assert response.status_code == 200
    lead = _lead(api)
    assert lead.custom_fields == {"company": "Example Co"}  # the key is no custom field
    assert lead.phone == "+12065550100"


@pytest.mark.parametrize(
    "where",
    ["query", "authentication", "authentication-bearer", "authorization"],
)
def test_the_key_is_read_from_the_query_or_either_header(api: ApiWorld, where: str):
    headers = {
        "query": {},
        "authentication": {"Authentication": api.key},
        "authentication-bearer": {"Authentication": f"Bearer {api.key}"},
        "authorization": {"Authorization": f"Bearer {api.key}"},
    }[where]
    query = f"?api_key={api.key}" if where == "query" else ""

    response = api.client.post(f"/v2/{api.origin.ref}/{query}", json=EXAMPLE, headers=headers)

    assert response.status_code == 200
    assert _lead(api).email == "ada@example.com"


def test_a_funnel_id_names_its_first_active_api_origin(api: ApiWorld):
    response = post_v2(api, EXAMPLE, campaign=api.funnel.id)

    assert response.status_code == 200
    assert _lead(api).origin_id == api.origin.id


def test_a_known_lead_is_updated_its_counter_grows_and_its_opt_out_is_lifted(api: ApiWorld):
    first = post_v2(api, {"email": "ada@example.com"}).json
    lead = _lead(api)
    lead.opted_out_at = utcnow()
    db.session.commit()

    again = post_v2(api, {"email": "ADA@example.com", "phone_number": "+12065550100"})

    assert again.status_code == 200
    assert again.json["id"] == first["id"]
    assert again.json["created"] is False
    assert again.json["counter"] == 2
    assert again.json["opted_out"] is False
    assert _lead(api).phone == "+12065550100"  # the phone it lacked is added
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 1


def test_do_not_reset_opt_out_keeps_the_lead_opted_out(api: ApiWorld):
    post_v2(api, {"email": "ada@example.com"})
    lead = _lead(api)
    lead.opted_out_at = utcnow()
    db.session.commit()

    response = post_v2(api, {"email": "ada@example.com", "__do_not_reset_opt_out": "1"})

    assert response.json["opted_out"] is True
    assert _lead(api).opted_out_at is not None


def test_an_email_is_added_to_a_lead_known_by_phone_only(api: ApiWorld):
    api.funnel.identifier = "phone"
    db.session.commit()
    assert post_v2(api, {"phone_number": "+12065550100"}).json["created"] is True

    response = post_v2(api, {"phone_number": "+1 206 555 0100", "email": "ada@example.com"})

    assert response.json["counter"] == 2
    assert (_lead(api).email, _lead(api).phone) == ("ada@example.com", "+12065550100")


def test_country_code_is_put_before_the_phone_number(api: ApiWorld):
    response = post_v2(
        api, {"email": "ada@example.com", "phone_number": "20 7946 0958", "country_code": "44"}
    )

    assert response.status_code == 200
    assert _lead(api).phone == "+442079460958"


def test_the_url_query_is_merged_and_reserved_fields_are_dropped(api: ApiWorld):
    body = {
        "email": "ada@example.com",
        "__url": "https://shop.example.com/join?utm_source=news&utm_medium=email&Plan=gold",
        "__referrer": "https://news.example.com/",
        "__source": "modal.123",
        "__uid": "crm-42",
        "__sid": "s-1",
        "__session_id": "s-1",
        "__rid": "r-1",
        "_private": "x",
        "list_id": "9",
        "landing_page_id": "8",
        "kolid": "7",
        "controller": "api",
        "action": "create",
        "ip": "203.0.113.9",
        "Favourite_Colour": "Blue",
        "utm_campaign": "spring",
    }

    response = post_v2(api, body)

    assert response.status_code == 200
    lead = _lead(api)
    assert lead.custom_fields == {"favourite_colour": "Blue", "plan": "gold"}
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("news", "email", "spring")
    assert lead.source_url == body["__url"]
    assert lead.referrer == "https://news.example.com/"
    assert lead.source == "modal.123"
    assert lead.unique_id == "crm-42"
    assert lead.ip == "203.0.113.9"
    assert response.json["uid"] == "crm-42"
    assert response.json["utm"]["utm_source"] == "news"


def test_the_older_referrer_name_is_read_too(api: ApiWorld):
    post_v2(api, {"email": "ada@example.com", "referrer": "https://blog.example.com/"})

    assert _lead(api).referrer == "https://blog.example.com/"


def test_skip_urls_leaves_the_url_fields_out(api: ApiWorld):
    body = post_v2(api, {**EXAMPLE, "__skip_urls": "1", "__skip_actions": "1"}).json

    assert not {"social_url", "url", "unsubscribe_url", "redirect_url"} & set(body)
    assert body["email"] == "ada@example.com"


def test_redirect_url_is_stored_and_answered(api: ApiWorld):
    body = post_v2(api, {**EXAMPLE, "redirect_url": "https://www.example.com/thanks"}).json

    assert body["redirect_url"] == "https://www.example.com/thanks"
    assert _lead(api).journeys[0].redirect_url == "https://www.example.com/thanks"


def test_points_with_a_key_add_to_the_contest_score(api: ApiWorld):
    assert post_v2(api, {**EXAMPLE, "points": 5}).json["contest_score"] == 5
    assert post_v2(api, {**EXAMPLE, "points": "3"}).json["contest_score"] == 8
    assert _lead(api).points == 8


def test_must_exist_updates_a_known_lead_and_creates_no_new_one(api: ApiWorld):
    post_v2(api, EXAMPLE)

    known = post_v2(api, {"email": "ada@example.com", "must_exist": "true", "city": "Paris"})
    unknown = post_v2(api, {"email": "bob@example.com", "must_exist": True})

    assert known.status_code == 200 and known.json["custom_fields"]["city"] == "Paris"
    assert unknown.status_code == 404 and error_code(unknown) == "LEAD_NOT_FOUND"
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"first_name": "Ada"}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "ada@example.com", "phone_number": "12"}, "phone"),
        ({"email": "ada@example.com", "points": "many"}, "points"),
    ],
    ids=["neither-email-nor-phone", "invalid-email", "invalid-phone", "points-not-a-number"],
)
def test_invalid_requests_are_validation_errors(api: ApiWorld, body: dict, field: str):
    response = post_v2(api, body)

    assert response.status_code == 422
    assert error_code(response) == "VALIDATION_ERROR"
    assert field in {error["field"] for error in response.json["errors"]}
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_an_unknown_campaign_is_404(api: ApiWorld):
    response = post_v2(api, EXAMPLE, campaign="no-such-campaign")

    assert response.status_code == 404 and error_code(response) == "NOT_FOUND"


def test_another_workspaces_campaign_is_404(api: ApiWorld):
    other = factories.origin(factories.funnel(factories.workspace()), OriginKind.API)

    response = post_v2(api, EXAMPLE, campaign=other.ref)

    assert response.status_code == 404 and error_code(response) == "NOT_FOUND"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-key"}],
    ids=["no-key", "wrong-key"],
)
def test_invalid_api_access_is_409(api: ApiWorld, headers: dict):
    response = post_v2(api, EXAMPLE, headers=headers)

    assert response.status_code == 409 and error_code(response) == "INVALID_API_ACCESS"
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_an_ended_campaign_is_423(api: ApiWorld):
    funnel = db.session.get(Funnel, api.funnel.id)
    funnel.status = FunnelStatus.ENDED
    db.session.commit()

    response = post_v2(api, EXAMPLE)

    assert response.status_code == 423 and error_code(response) == "FUNNEL_CLOSED"


def test_malformed_json_is_400_in_the_api_envelope(api: ApiWorld):
    response = post_v2(api, data="{nope", headers={**api.auth, "Content-Type": "application/json"})

    assert response.status_code == 400 and error_code(response) == "INVALID_JSON"


def test_the_paths_are_in_the_openapi_document(api: ApiWorld):
    paths = api.client.get("/api/v1/openapi.json").json["paths"]

    assert {
        "/v2/{campaign_id}/",
        "/v2/{campaign_id}",
        "/v1/{campaign_id}/subscribe",
        "/v1/{campaign_id}/info",
    } <= set(paths)
    register = paths["/v2/{campaign_id}/"]["post"]
    assert {"200", "404", "409", "422", "423"} <= set(register["responses"])
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(
        register["requestBody"]["content"]
    )


def test_each_call_is_logged_with_its_dialect_origin_and_lead(api: ApiWorld):
    post_v2(api, EXAMPLE)
    post_v2(api, {"email": "nope"})

    created, refused = db.session.scalars(db.select(IngestionEntry).order_by(IngestionEntry.id))
    lead = _lead(api)
    assert (created.dialect, created.origin_id, created.workspace_id, created.lead_id) == (
        "kickofflabs",
        api.origin.id,
        api.workspace.id,
        lead.id,
    )
    assert (refused.dialect, refused.origin_id, refused.lead_id) == (
        "kickofflabs",
        api.origin.id,
        None,
    )
    assert refused.codes == ["VALIDATION_ERROR"]


def test_the_signup_urls_query_cannot_carry_controls(api: ApiWorld):
    url = (
        "https://shop.example.com/join?points=1000&redirect_url=https://evil.example/"
        "&api_key=stolen&must_exist=1&__skip_urls=1&ip=10.0.0.1&Plan=gold"
    )

    response = post_v2(api, {"email": "ada@example.com", "__url": url})

    assert response.status_code == 200
    body = response.json
    assert body["contest_score"] == 0
    assert body["redirect_url"] is None and "social_url" in body
    assert body["custom_fields"] == {"plan": "gold"}
    assert _lead(api).ip != "10.0.0.1"


def test_the_log_tells_a_created_lead_from_an_update_though_both_answer_200(api: ApiWorld):
    post_v2(api, EXAMPLE)
    post_v2(api, EXAMPLE)

    outcomes = db.session.scalars(db.select(IngestionEntry.outcome).order_by(IngestionEntry.id))
    assert list(outcomes) == ["created", "updated"]
