"""`POST /api/v1/leads/batch?ref=`: many registrations in one call, answered per item."""

from __future__ import annotations

from typing import Any

from werkzeug.test import TestResponse

from leadsite.extensions import db
from leadsite.ingestion import writer
from leadsite.models import IngestionEntry, Journey, Lead
from tests.api.conftest import ApiWorld


def _batch(api: ApiWorld, body: Any, **kwargs: Any) -> TestResponse:
    headers = {**api.auth, **kwargs.pop("headers", {})}
    if "data" not in kwargs:
        kwargs["json"] = body
    return api.client.post(f"/api/v1/leads/batch?ref={api.origin.ref}", headers=headers, **kwargs)


def _leads() -> list[Lead]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(db.select(Lead).order_by(Lead.email)))


def test_a_batch_registers_each_item_and_answers_per_item_in_order(api):
    response = _batch(
        api,
        [
            {"Email": "ada@example.com", "Firstname": "Ada"},
            {"email": "not-an-email", "phone": "12"},
            {"email": "grace@example.com", "JourneyData": [{"Name": "team_size", "Value": "4"}]},
        ],
    )

    assert response.status_code == 200
    body = response.json
    assert body["counts"] == {"created": 2, "updated": 0, "rejected": 1}
    data = body["data"]
    assert [(item["index"], item["status"], item["created"]) for item in data] == [
        (0, "created", True),
        (1, "rejected", False),
        (2, "created", True),
    ]
    assert data[1]["code"] == "VALIDATION_ERROR" and data[1]["lead_id"] is None
    assert {error["field"] for error in data[1]["errors"]} == {"email", "phone"}
    leads = _leads()
    assert [(lead.email, lead.first_name) for lead in leads] == [
        ("ada@example.com", "Ada"),
        ("grace@example.com", None),
    ]
    assert {data[0]["lead_id"], data[2]["lead_id"]} == {lead.id for lead in leads}
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=data[2]["lead_id"]))
    assert [item.value for item in journey.data] == [4]


def test_two_items_for_one_person_make_one_lead_counted_twice(api):
    response = _batch(
        api,
        [
            {"email": "ada@example.com", "first_name": "Ada"},
            {"email": "ADA@example.com", "last_name": "Lovelace", "tags": ["vip"]},
        ],
    )

    data = response.json["data"]
    assert [(item["status"], item["created"]) for item in data] == [
        ("created", True),
        ("updated", False),
    ]
    assert data[0]["lead_id"] == data[1]["lead_id"]
    (lead,) = _leads()
    assert (lead.first_name, lead.last_name, lead.tags, lead.counter) == (
        "Ada",
        "Lovelace",
        ["vip"],
        2,
    )
    assert response.json["counts"] == {"created": 1, "updated": 1, "rejected": 0}


def test_an_item_that_is_not_an_object_or_has_a_bad_field_is_rejected_alone(api):
    response = _batch(
        api,
        [
            "ada@example.com",
            {"email": "grace@example.com", "first_name": {"a": 1}},
            7,
            None,
            {"email": "linus@example.com"},
        ],
    )

    assert response.status_code == 200
    data = response.json["data"]
    assert [item["status"] for item in data] == ["rejected"] * 4 + ["created"]
    assert {item["code"] for item in data[:4]} == {"VALIDATION_ERROR"}
    assert data[1]["errors"][0]["field"] == "first_name"
    assert data[0]["errors"][0]["field"] == "body"
    assert [lead.email for lead in _leads()] == ["linus@example.com"]


def test_a_duplicate_refused_by_the_funnel_names_the_lead_that_holds_it(api):
    api.funnel.on_duplicate = "reject"
    db.session.commit()

    data = _batch(api, [{"email": "ada@example.com"}, {"email": "ada@example.com"}]).json["data"]

    assert data[1]["status"] == "rejected" and data[1]["code"] == "DUPLICATE_EMAIL"
    assert data[1]["existingLeadId"] == data[0]["lead_id"]


def test_a_body_that_is_not_a_non_empty_array_is_refused_whole(api):
    for body in ({"email": "ada@example.com"}, [], "x"):
        response = _batch(api, body)
        assert response.status_code == 422, body
        assert response.json["code"] == "VALIDATION_ERROR"
        assert response.json["success"] is False

    too_many = _batch(api, [{"email": f"p{n}@example.com"} for n in range(501)])
    assert too_many.status_code == 413 and too_many.json["code"] == "PAYLOAD_TOO_LARGE"

    broken = _batch(api, None, data="[{", content_type="application/json")
    assert broken.status_code == 400 and broken.json["code"] == "INVALID_JSON"
    form = _batch(api, None, data={"email": "ada@example.com"})
    assert form.status_code == 415
    assert _leads() == []


def test_an_unknown_ref_or_a_missing_key_is_refused(api):
    missing = api.client.post("/api/v1/leads/batch?ref=nope", headers=api.auth, json=[{}])
    assert missing.status_code == 404 and missing.json["code"] == "NOT_FOUND"
    keyless = api.client.post(f"/api/v1/leads/batch?ref={api.origin.ref}", json=[{}])
    assert keyless.status_code == 401


def test_a_closed_funnel_refuses_the_whole_batch(api):
    api.funnel.status = "ended"
    db.session.commit()

    response = _batch(api, [{"email": "ada@example.com"}])

    assert response.status_code == 423 and response.json["code"] == "FUNNEL_CLOSED"
    assert _leads() == []


def test_an_idempotency_key_covers_the_whole_batch(api):
    body = [{"email": "ada@example.com"}, {"email": "grace@example.com"}]
    headers = {"Idempotency-Key": "batch-1"}

    first = _batch(api, body, headers=headers)
    again = _batch(api, body, headers=headers)
    other = _batch(api, [{"email": "linus@example.com"}], headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [lead.counter for lead in _leads()] == [1, 1]
    assert other.status_code == 422 and other.json["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert [lead.email for lead in _leads()] == ["ada@example.com", "grace@example.com"]


def test_the_ingestion_log_keeps_one_entry_per_batch_with_its_counts(api):
    _batch(
        api,
        [{"email": "ada@example.com"}, {"email": "ada@example.com"}, {"email": "bad"}],
    )
    writer.flush()

    db.session.rollback()
    db.session.expire_all()
    (entry,) = db.session.scalars(db.select(IngestionEntry)).all()
    assert (entry.origin_id, entry.status, entry.outcome) == (api.origin.id, 200, "created")
    assert entry.details["counts"] == {"created": 1, "updated": 1, "rejected": 1}
    assert entry.codes == ["VALIDATION_ERROR"]
    assert entry.message == "Batch of 3: 1 created, 1 updated, 1 rejected"
    assert entry.lead_id is None


def test_the_openapi_document_describes_the_batch(client):
    doc = client.get("/api/v1/openapi.json").json

    operation = doc["paths"]["/api/v1/leads/batch"]["post"]
    assert {"200", "413", "422"} <= set(operation["responses"])
    body = doc["components"]["schemas"]["BatchBody"]
    assert (body["type"], body["maxItems"], body["minItems"]) == ("array", 500, 1)


def test_two_items_give_journey_data_to_a_lead_registered_before(api):
    known = api.register({"email": "ada@example.com"}).json["data"]

    response = _batch(
        api,
        [
            {"email": "ada@example.com", "JourneyData": {"team_size": 4}},
            {"email": "ada@example.com", "JourneyData": {"team_size": 5, "company": "Acme"}},
        ],
    )

    assert [item["status"] for item in response.json["data"]] == ["updated", "updated"]
    db.session.rollback()
    journey = db.session.get(Journey, known["journey"]["id"])
    assert sorted((item.data_point.name, item.value) for item in journey.data) == [
        ("company", "Acme"),
        ("team_size", 5),
    ]
    assert db.session.get(Lead, known["id"]).counter == 3
