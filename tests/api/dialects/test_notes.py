"""Every dialect notes its calls for the ingestion log (`leadsite.api.ingest.note`): the dialect,
origin, workspace and lead, and the codes of a refusal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, g, request_finished, request_started

from leadsite.api.ingest import CallNote, current
from leadsite.extensions import db
from leadsite.models import OnDuplicate
from tests import factories
from tests.bodies import CHATBOT_EXAMPLE, KOHOMAI_BUBBLE


@pytest.fixture
def notes(app: Flask) -> Iterator[list[CallNote | None]]:
    """The note each request left, read as the ingestion log does: once the response is made."""
    seen: list[CallNote | None] = []

    def forget(sender: Flask, **extra: object) -> None:
        # The test's own app context outlives each request (in production every request has
        # its own `g`): start each request without the previous one's note.
        g.pop("ingest_note", None)

    def record(sender: Flask, response: object, **extra: object) -> None:
        seen.append(current())

    request_started.connect(forget, app)
    request_finished.connect(record, app)
    yield seen
    request_finished.disconnect(record, app)
    request_started.disconnect(forget, app)


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
