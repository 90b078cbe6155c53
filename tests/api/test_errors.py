"""Every API error code, from a real request, in the envelope DESIGN.md promises."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import FunnelStatus, Lead, OnDuplicate, OriginKind, utcnow
from tests import factories


def _assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    assert set(body) == {"success", "error", "code", "details", "errors"}
    return body


def _lead_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Lead))


def test_invalid_json_is_400(api):
    response = api.register(data="{not json", headers={"Content-Type": "application/json"})

    _assert_envelope(response, 400, "INVALID_JSON")


@pytest.mark.parametrize(
    "body",
    [
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        '{"a": NaN}',
        '{"a": 1e999}',
        '{"Email": "\\u0000@x.com"}',
        '{"Email": "\\ud800"}',
    ],
)
def test_bodies_no_column_can_hold_are_400(api, body):
    response = api.register(data=body, headers={"Content-Type": "application/json"})

    _assert_envelope(response, 400, "INVALID_JSON")
    assert _lead_count() == 0


def test_a_missing_key_is_401(api):
    response = api.client.post(f"/api/v1/leads?ref={api.origin.ref}", json={"email": "a@b.co"})

    body = _assert_envelope(response, 401, "UNAUTHORIZED")
    assert "Bearer" in body["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_or_revoked_key_is_401(api):
    wrong = api.client.get("/api/v1/funnels", headers={"Authorization": "Bearer lsk_nope"})
    _assert_envelope(wrong, 401, "UNAUTHORIZED")

    from leadsite.accounts import revoke_api_key
    from leadsite.models import ApiKey

    for key in db.session.scalars(db.select(ApiKey)):
        revoke_api_key(key)
    db.session.commit()
    revoked = api.get("/api/v1/funnels")
    _assert_envelope(revoked, 401, "UNAUTHORIZED")


@pytest.mark.parametrize("which", ["unknown", "other-workspace", "page-origin", "missing"])
def test_a_ref_that_names_no_api_origin_of_this_workspace_is_404(api, which):
    other = factories.origin(factories.funnel(factories.workspace()))
    page = factories.origin(api.funnel, OriginKind.PAGE)
    ref = {
        "unknown": "nosuchref",
        "other-workspace": other.ref,
        "page-origin": page.ref,
        "missing": None,
    }[which]

    if ref is None:  # and the workspace has chosen no default API origin
        response = api.client.post("/api/v1/leads", json={"email": "a@b.co"}, headers=api.auth)
        body = _assert_envelope(response, 404, "NOT_FOUND")
        assert "Settings → Workspace (/p/settings/workspace)" in body["error"]
    else:
        _assert_envelope(api.register({"email": "a@b.co"}, ref=ref), 404, "NOT_FOUND")
    assert _lead_count() == 0


def test_must_exist_without_a_match_is_lead_not_found(api):
    response = api.register({"email": "new@example.com", "MustExist": True})

    _assert_envelope(response, 404, "LEAD_NOT_FOUND")
    assert _lead_count() == 0


@pytest.mark.parametrize(
    ("identifier", "existing", "body", "code"),
    [
        ("email", {"email": "d@example.com"}, {"Email": "D@example.com"}, "DUPLICATE_EMAIL"),
        (
            "phone",
            {"phone": "+442079460000", "email": None},
            {"phone": "+44 20 7946 0000"},
            "DUPLICATE_PHONE",
        ),
        (
            "unique_id",
            {"unique_id": "crm-1", "email": None},
            {"UniqueId": "crm-1"},
            "DUPLICATE_UNIQUE_ID",
        ),
    ],
)
def test_a_duplicate_is_409_when_the_funnel_rejects_them(api, identifier, existing, body, code):
    api.funnel.on_duplicate = OnDuplicate.REJECT
    api.funnel.identifier = identifier
    db.session.commit()
    lead = factories.lead(api.workspace, **existing)

    response = api.register(body)

    body = _assert_envelope(response, 409, code)
    assert body["details"]["existingLeadId"] == lead.id
    assert body["details"]["field"] == identifier
    assert _lead_count() == 1


def test_a_body_over_64_kb_is_413(api):
    response = api.register({"email": "big@example.com", "note": "x" * 70_000})

    _assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert _lead_count() == 0


def test_a_body_of_another_media_type_is_415(api):
    response = api.register(data="email=a@b.co", headers={"Content-Type": "text/plain"})

    _assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_every_invalid_field_is_reported_at_once_with_422(api):
    response = api.register(
        {
            "Email": "not-an-email",
            "PhoneNumber": "12",
            "Firstname": "x" * 101,
            "RedirectURL": "javascript:alert(1)",
            "tags": ["t"] * 3 + ["y" * 51],
            "JourneyData": [
                {"Name": "team_size", "Value": "lots"},
                {"Name": "unknown", "Value": 1},
            ],
            "WebhookInput": {"Url": "http://127.0.0.1:9/x", "Events": ["nope"]},
        }
    )

    body = _assert_envelope(response, 422, "VALIDATION_ERROR")
    fields = [error["field"] for error in body["errors"]]
    assert fields[0] == body["details"]["field"]
    assert {
        "email",
        "phone",
        "first_name",
        "redirect_url",
        "tags[3]",
        "journey_data[0].value",
        "journey_data[1].name",
        "webhook_input.events",
    } <= set(fields)
    assert all(error["message"] for error in body["errors"])
    assert _lead_count() == 0


def test_a_webhook_to_a_private_address_is_refused_unless_allowed(app, api):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    try:
        response = api.register(
            {"email": "p@example.com", "WebhookInput": {"Url": "http://10.0.0.5/hook"}}
        )
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True

    body = _assert_envelope(response, 422, "VALIDATION_ERROR")
    assert body["details"]["field"] == "webhook_input.url"


@pytest.mark.parametrize(
    "change",
    [
        {"status": FunnelStatus.ENDED},
        {"status": FunnelStatus.DRAFT},
        {"ends_at": utcnow() - timedelta(minutes=1)},
        {"starts_at": utcnow() + timedelta(days=1)},
    ],
    ids=["ended", "draft", "after-end", "before-start"],
)
def test_a_closed_funnel_is_423(api, change):
    for name, value in change.items():
        setattr(api.funnel, name, value)
    db.session.commit()

    _assert_envelope(api.register({"email": "late@example.com"}), 423, "FUNNEL_CLOSED")
    assert _lead_count() == 0


def test_too_many_requests_are_429_with_retry_after(app, api):
    app.config["API_RATE_LIMIT"] = "3 per day"
    try:
        statuses = [api.get("/api/v1/funnels").status_code for _ in range(4)]
        limited = api.get("/api/v1/funnels")
    finally:
        app.config["API_RATE_LIMIT"] = "600 per minute"

    assert statuses == [200, 200, 200, 429]
    _assert_envelope(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["Retry-After"]) > 0


def test_unknown_api_paths_and_methods_answer_in_the_envelope(api):
    _assert_envelope(api.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    _assert_envelope(api.client.put("/api/v1/funnels", headers=api.auth), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize(
    "body",
    [
        {"Email": {"nested": True}},
        {"Email": ["a@b.co"]},
        {"email": "a@b.co", "JourneyData": "company=x"},
        {"email": "a@b.co", "JourneyData": [1, 2]},
        {"email": "a@b.co", "JourneyData": [{"Name": None}]},
        {"email": "a@b.co", "WebhookInput": "https://x.example.com"},
        {"email": "a@b.co", "WebhookInput": {"Url": 5}},
        {"email": "a@b.co", "tags": {"a": 1}},
        {"email": "a@b.co", "tags": [["nested"]]},
        {"email": "a@b.co", "phone": True},
        {"email": "a@b.co", "phone": 12.5},
        {"email": "a@b.co", "MustExist": "perhaps"},
        {"email": "a@b.co", "OptIn": [1]},
        {"email": "a@b.co", "CountryCode": "ZZZ"},
        {"email": "a@b.co", "Metadata": "text"},
        {"email": "a@b.co", "ip": "999.1.1.1"},
        {"email": "a@b.co", "consent": []},
        {"email": "a@b.co", "__url": "ftp://x"},
        {"email": "a@b.co", "big": 10**30},
        {"email": "a@" + "b" * 300 + ".com"},
        {"": "empty key", "email": "a@b.co", "x": {"y": {"z": [None, {"w": 1.5}]}}},
        {"email": "\u00e9l\u00e8ve@exemple.fr", "first_name": "\U0001f600"},
    ],
)
def test_no_body_shape_causes_a_server_error(api, body):
    response = api.register(body)

    assert response.status_code in (200, 201, 422), response.get_data(as_text=True)
    assert response.json["success"] is (response.status_code < 300)


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_method_the_batch_does_not_take_is_a_405_not_a_missing_lead(api, method):
    response = api.client.open("/api/v1/leads/batch", method=method, headers=api.auth, json={})

    _assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["Allow"]
