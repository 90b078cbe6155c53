"""An API registration may name the lead's language; a bad one is refused on its field, and the
API's own messages stay English whatever the caller's Accept-Language."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories


@pytest.fixture
def register(client):
    ws = factories.workspace("Acme")
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.API)
    key = factories.api_key(ws)

    def post(body: dict, **headers: str):
        headers = {"Authorization": f"Bearer {key}", **headers}
        return client.post(f"/api/v1/leads?ref={origin.ref}", json=body, headers=headers)

    return post


@pytest.mark.parametrize(
    ("sent", "stored"), [("de", "de"), ("FR-ca", "fr"), ("es_MX", "es"), (None, None)]
)
def test_the_lead_s_language_is_stored_as_given(register, sent, stored):
    response = register({"email": "ada@example.com", "language": sent})

    assert response.status_code in (200, 201), response.get_data(as_text=True)
    assert db.session.scalar(db.select(Lead.language)) == stored


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ("it", "Language must be one of: en, de, fr, es"),
        ("klingon", "Language must be one of: en, de, fr, es"),
        (7, "Input should be a valid string"),
    ],
)
def test_a_language_we_do_not_speak_is_refused_in_english(register, sent, message):
    response = register({"email": "ada@example.com", "language": sent}, **{"Accept-Language": "de"})

    body = response.get_json()
    assert response.status_code == 422
    [error] = [e for e in body["errors"] if e["field"] == "language"]
    assert error["message"] == message
    assert db.session.scalar(db.select(Lead.id)) is None


def test_registering_again_in_another_language_switches_the_lead_to_it(register):
    register({"email": "ada@example.com", "language": "de"})
    register({"email": "ada@example.com", "language": "es"})
    register({"email": "ada@example.com"})  # no language given: kept

    assert db.session.scalar(db.select(Lead.language)) == "es"
