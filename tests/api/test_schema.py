"""The OpenAPI document, Swagger UI, and a schemathesis run over every operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from leadsite.extensions import db
from tests.api.conftest import ApiWorld


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


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_no_operation_answers_5xx_or_outside_its_schema(app, api: ApiWorld, mode):
    """Schemathesis generates requests from the document for every operation (valid ones, then
    invalid ones) and checks each answer: no 5xx, a documented status, a body matching its
    schema. The registration's `ref` is the real one, so generated bodies reach the pipeline."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    # Calls naming no origin (the dialects') reach the pipeline through the default origin.
    api.workspace.default_origin_id = api.origin.id
    db.session.commit()
    with_ref = {"POST /api/v1/leads", "POST /api/v1/journeys"}

    for operation in operations:
        query = {"ref": api.origin.ref} if operation.label in with_ref else None
        path = (
            {"chatbot_id": api.origin.ref}
            if operation.label == "POST /api/v1/chatbots/{chatbot_id}/leads"
            else None
        )

        @given(case=operation.as_strategy(mode, query=query, path_parameters=path))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(headers=api.auth, checks=CHECKS)

        check()
