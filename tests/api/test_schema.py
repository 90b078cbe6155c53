"""The OpenAPI document and Swagger UI (schemathesis runs over it in test_schema_deep.py)."""

from __future__ import annotations


def test_the_openapi_document_is_3_1_with_bearer_auth_and_every_resource(client):
    response = client.get("/api/v1/openapi.json")

    doc = response.json
    assert response.status_code == 200
    assert doc["openapi"] == "3.1.0"
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {
        "/api/v1/leads",
        "/api/v1/leads/{lead_id}",
        "/api/v1/funnels",
        "/api/v1/funnels/{funnel_id}",
        "/api/v1/journeys/{journey_id}",
        "/api/v1/data-points",
        "/api/v1/webhooks",
    } <= set(doc["paths"])
    register = doc["paths"]["/api/v1/leads"]["post"]
    assert {"201", "200", "409", "422", "423", "429"} <= set(register["responses"])
    body = register["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(body)


def test_swagger_ui_is_served_from_vendored_files(client):
    page = client.get("/api/docs").get_data(as_text=True)

    assert "/static/vendor/swagger-ui-5.35.0-bundle.js" in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert "<script>" not in page  # no inline script: the CSP holds
    bundle = client.get("/static/vendor/swagger-ui-5.35.0-bundle.js")
    assert bundle.status_code == 200
    bundle.close()
