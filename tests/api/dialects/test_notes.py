"""Every dialect notes its calls for the ingestion log (`leadsite.api.ingest.note`): the dialect,
origin, workspace and lead, and the codes of a refusal."""

from __future__ import annotations

import pytest

from leadsite.api import ingest
from leadsite.api.ingest import CallNote
from leadsite.extensions import db
from leadsite.models import OnDuplicate
from tests import factories
from tests.bodies import CHATBOT_EXAMPLE, KOHOMAI_BUBBLE


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch) -> list[CallNote | None]:
    """The note each request left, as the ingestion log takes it once the response is made."""
    seen: list[CallNote | None] = []

    def take() -> CallNote | None:
        call = ingest.current()
        seen.append(call)
        return original() if call is not None else None

    original = ingest.take
    monkeypatch.setattr(ingest, "take", take)
    return seen


VCITA = {"identifier_type": "email", "email": "v@example.com", "first_name": "V"}


def test_each_dialect_notes_its_origin_and_lead(default_api, notes):
    api = default_api
    calls = [
        ("leadsite", lambda: api.register({"email": "l@example.com"})),
        (
            "chatbot",
            lambda: api.client.post("/api/v1/leads", json=CHATBOT_EXAMPLE, headers=api.auth),
        ),
        (
            "chatbot",
            lambda: api.client.post(
                f"/api/v1/chatbots/{api.origin.ref}/leads",
                json={**CHATBOT_EXAMPLE, "email": "c2@example.com"},
                headers=api.auth,
            ),
        ),
        (
            "kohomai",
            lambda: api.client.post(
                f"/api/v1/journeys?ref={api.origin.ref}", json=KOHOMAI_BUBBLE, headers=api.auth
            ),
        ),
        (
            "vcita",
            lambda: api.client.post(
                "/platform/v1/leadgen", json={**VCITA, "request_title": "Hi"}, headers=api.auth
            ),
        ),
    ]
    for dialect, call in calls:
        notes.clear()
        response = call()
        assert response.status_code in (200, 201), (dialect, response.json)
        [note] = notes
        assert (note.dialect, note.origin_id, note.workspace_id) == (
            dialect,
            api.origin.id,
            api.workspace.id,
        )
        assert note.lead_id and note.codes == []


def test_a_refusal_is_noted_with_its_code(default_api, notes):
    api = default_api
    existing = factories.registered(api.origin, email="v@example.com")

    refusals = [
        (
            "chatbot",
            "VALIDATION_ERROR",
            None,
            lambda: api.client.post(
                f"/api/v1/chatbots/{api.origin.ref}/leads",
                json={**CHATBOT_EXAMPLE, "email": "nope"},
                headers=api.auth,
            ),
        ),
        (
            "kohomai",
            "NOT_FOUND",
            None,
            lambda: api.client.post(
                "/api/v1/journeys?ref=nosuchref", json=KOHOMAI_BUBBLE, headers=api.auth
            ),
        ),
        (
            "vcita",
            "VALIDATION_ERROR",
            None,
            lambda: api.client.post("/platform/v1/leadgen", json=VCITA, headers=api.auth),
        ),
    ]
    api.funnel.on_duplicate = OnDuplicate.REJECT
    db.session.commit()
    refusals.append(
        (
            "chatbot",
            "DUPLICATE_EMAIL",
            existing.id,
            lambda: api.client.post(
                "/api/v1/leads",
                json={**CHATBOT_EXAMPLE, "email": "v@example.com"},
                headers=api.auth,
            ),
        )
    )
    for dialect, code, lead_id, call in refusals:
        notes.clear()
        response = call()
        assert response.status_code >= 400
        [note] = notes
        assert (note.dialect, note.codes, note.lead_id) == (dialect, [code], lead_id)
