"""Mapped origins: a sender's own nested JSON, posted to the origin's hook URL, makes the lead."""

from __future__ import annotations

import json

from leadsite.extensions import db
from leadsite.models import IngestionEntry, Journey, Lead, OriginKind
from tests import factories

# What a form service posts (the shape of Typeform's webhook), unchanged.
TYPEFORM_LIKE = {
    "event_id": "01HX",
    "event_type": "form_response",
    "form_response": {
        "form_id": "lT4Z3j",
        "hidden": {"utm_source": "newsletter"},
        "definition": {"title": "Beta signup"},
        "answers": [
            {"type": "text", "text": "Ada", "field": {"ref": "first_name", "type": "short_text"}},
            {"type": "email", "email": "ada@example.com", "field": {"ref": "email"}},
            {"type": "text", "text": "Analytical Engines", "field": {"ref": "company"}},
            {"type": "number", "number": 12, "field": {"ref": "team"}},
        ],
    },
}
TYPEFORM_MAPPING = {
    "email": "form_response.answers[?field.ref=='email'].email | [0]",
    "first_name": "form_response.answers[?field.ref=='first_name'].text | [0]",
    "utm_source": "form_response.hidden.utm_source",
    "data.company": "form_response.answers[?field.ref=='company'].text | [0]",
    "custom.team": "form_response.answers[?field.ref=='team'].number | [0]",
    "source": "form_response.definition.title",
}
# What an ad platform posts for a lead form (the shape of Facebook lead ads' field data).
FACEBOOK_LIKE = {
    "object": "page",
    "entry": [
        {
            "id": "1234",
            "changes": [
                {
                    "field": "leadgen",
                    "value": {
                        "leadgen_id": "987",
                        "field_data": [
                            {"name": "full_name", "values": ["Grace Hopper"]},
                            {"name": "email", "values": ["grace@example.com"]},
                            {"name": "phone_number", "values": ["+1 800 555 0175"]},
                        ],
                    },
                }
            ],
        }
    ],
}
FACEBOOK_MAPPING = {
    "name": "entry[0].changes[0].value.field_data[?name=='full_name'].values[0] | [0]",
    "email": "entry[0].changes[0].value.field_data[?name=='email'].values[0] | [0]",
    "phone": "entry[0].changes[0].value.field_data[?name=='phone_number'].values[0] | [0]",
    "unique_id": "entry[0].changes[0].value.leadgen_id",
}


def _hook(origin) -> str:
    return f"/hooks/{origin.ref}/{origin.hook_secret}"


def _entries() -> list[IngestionEntry]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(db.select(IngestionEntry).order_by(IngestionEntry.id)))


def _mapped_origin(api, mapping):
    origin = factories.origin(api.funnel, OriginKind.API, mapping=mapping)
    return origin


def test_a_typeform_like_payload_makes_the_lead_through_the_mapping(api):
    origin = _mapped_origin(api, TYPEFORM_MAPPING)

    response = api.client.post(_hook(origin), json=TYPEFORM_LIKE)

    assert response.status_code == 201, response.json
    lead = db.session.get(Lead, response.json["data"]["id"])
    assert (lead.email, lead.first_name, lead.origin_id) == ("ada@example.com", "Ada", origin.id)
    assert lead.utm_source == "newsletter" and lead.source == "Beta signup"
    assert lead.custom_fields == {"team": 12}
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=lead.id))
    assert {d.data_point.name: d.value for d in journey.data} == {"company": "Analytical Engines"}
    (entry,) = _entries()
    assert (entry.dialect, entry.outcome, entry.status) == ("hook", "created", 201)
    assert json.loads(entry.body) == TYPEFORM_LIKE


def test_a_facebook_lead_ads_like_payload_makes_the_lead(api):
    origin = _mapped_origin(api, FACEBOOK_MAPPING)

    response = api.client.post(_hook(origin), json=FACEBOOK_LIKE)

    assert response.status_code == 201, response.json
    data = response.json["data"]
    assert (data["first_name"], data["last_name"]) == ("Grace", "Hopper")
    assert (data["email"], data["phone"]) == ("grace@example.com", "+18005550175")


def test_a_mapped_payload_that_fails_validation_is_a_logged_422(api):
    origin = _mapped_origin(api, {"email": "contact.mail", "data.company": "org"})

    response = api.client.post(_hook(origin), json={"contact": {"mail": "nope"}, "org": "X"})

    assert response.status_code == 422
    assert {e["field"] for e in response.json["errors"]} == {"email"}
    (entry,) = _entries()
    assert (entry.outcome, entry.codes) == ("rejected", ["VALIDATION_ERROR"])


def test_without_a_mapping_the_hook_reads_a_registration_body(api):
    origin = factories.origin(api.funnel, OriginKind.API)

    response = api.client.post(_hook(origin), json={"Email": "ada@example.com"})

    assert response.status_code == 201


def test_a_wrong_secret_is_a_404_logged_without_the_secret(api):
    origin = _mapped_origin(api, TYPEFORM_MAPPING)
    wrong = "x" * len(origin.hook_secret)

    response = api.client.post(f"/hooks/{origin.ref}/{wrong}", json=TYPEFORM_LIKE)
    unknown = api.client.post(f"/hooks/no-such-ref/{origin.hook_secret}", json=TYPEFORM_LIKE)

    assert response.status_code == unknown.status_code == 404
    assert response.json == unknown.json  # nothing tells a known ref from an unknown one
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0
    (entry,) = _entries()  # the unknown ref has no origin page to log on
    assert (entry.outcome, entry.status) == ("rejected", 404)
    assert entry.codes == ["NOT_FOUND", "HOOK_SECRET_INVALID"]
    stored = json.dumps([entry.body, entry.query, entry.message, entry.details])
    assert wrong not in stored and origin.hook_secret not in stored


def test_a_page_origin_has_no_hook(api):
    origin = factories.origin(api.funnel, OriginKind.PAGE, hook_secret="page-secret-0123")

    response = api.client.post(f"/hooks/{origin.ref}/page-secret-0123", json={"email": "a@b.co"})

    assert response.status_code == 404


def test_rotating_the_secret_invalidates_the_old_hook_url(api):
    origin = _mapped_origin(api, TYPEFORM_MAPPING)
    old_url = _hook(origin)

    response = api.client.patch(
        f"/api/v1/origins/{origin.id}", json={"rotate_hook_secret": True}, headers=api.auth
    )

    new_url = response.json["data"]["hook_url"].removeprefix("http://localhost")
    assert new_url != old_url
    assert api.client.post(old_url, json=TYPEFORM_LIKE).status_code == 404
    assert api.client.post(new_url, json=TYPEFORM_LIKE).status_code == 201


def test_a_hook_answers_json_errors_for_bad_bodies(api):
    origin = _mapped_origin(api, TYPEFORM_MAPPING)

    broken = api.client.post(_hook(origin), data="{oops", content_type="application/json")
    text = api.client.post(_hook(origin), data="hello", content_type="text/plain")
    get = api.client.get(_hook(origin))

    assert (broken.status_code, broken.json["code"]) == (400, "INVALID_JSON")
    assert (text.status_code, text.json["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert (get.status_code, get.json["code"]) == (405, "METHOD_NOT_ALLOWED")
