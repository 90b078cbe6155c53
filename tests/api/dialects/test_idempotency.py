"""Every door that registers honours `Idempotency-Key`: a repeat replays the first answer and
registers no one again (the dialects' clients retry as Kohomai's do)."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Lead
from tests.api.conftest import ApiWorld


def _doors(api: ApiWorld) -> dict[str, tuple[str, dict, dict]]:
    """Each door: its path, its headers' way of giving the key, a body registering one lead."""
    bearer = api.auth
    return {
        "leads": (f"/api/v1/leads?ref={api.origin.ref}", bearer, {"email": "x@example.com"}),
        "chatbot": (
            f"/api/v1/chatbots/{api.origin.ref}/leads",
            bearer,
            {"name": "Ada Lovelace", "email": "x@example.com"},
        ),
        "kohomai": (
            f"/api/v1/journeys?ref={api.origin.ref}",
            bearer,
            {"Email": "x@example.com", "Firstname": "Ada"},
        ),
        "kickofflabs": (f"/v2/{api.origin.ref}/", bearer, {"email": "x@example.com"}),
        "vcita": (
            "/platform/v1/leadgen",
            {"Authorization": f'Token token="{api.key}"'},
            {
                "identifier_type": "email",
                "email": "x@example.com",
                "first_name": "Ada",
                "request_title": "A call back",
            },
        ),
    }


@pytest.mark.parametrize("door", ["leads", "chatbot", "kohomai", "kickofflabs", "vcita"])
def test_a_repeat_with_the_same_key_replays_the_answer_and_counts_once(
    client, default_api: ApiWorld, door
):
    path, headers, body = _doors(default_api)[door]
    headers = {**headers, "Idempotency-Key": f"retry-{door}"}

    first = client.post(path, headers=headers, json=body)
    again = client.post(path, headers=headers, json=body)

    assert first.status_code in (200, 201), first.get_json()
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    lead = db.session.scalar(db.select(Lead).filter_by(email="x@example.com"))
    assert lead.counter == 1
