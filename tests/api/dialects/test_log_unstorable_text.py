"""The ingestion log keeps the calls whose text no column can hold (a NUL, a lone surrogate): the
doors refuse them (400), and those refusals are what a developer looks for in the log.

From outside, on a real server: such a call's entry was refused by PostgreSQL (jsonb takes no
`\\u0000` and no lone surrogate) and lost; on SQLite the driver's UnicodeEncodeError was no
SQLAlchemy error, so the whole batch was lost with it, the entries of every other call the
process answered in the same half second too.
"""

from __future__ import annotations

import json

import pytest

from leadsite.extensions import db
from leadsite.ingestion import writer
from leadsite.models import IngestionEntry
from tests.api.conftest import ApiWorld

REPLACEMENT = "\ufffd"
# Bodies as a client sends them: JSON whose escapes decode to a lone surrogate, and text (not
# JSON) holding NUL bytes and a byte that is not UTF-8.
LONE_SURROGATE = b'{"email": "ada@example.com", "first_name": "\\ud800", "\\udfff": "x"}'
NUL_TEXT = b"email=ada@example.com\x00\x00first_name=\xffAda"


def _doors(api: ApiWorld) -> dict[str, tuple[str, dict[str, str]]]:
    ref = api.origin.ref
    return {
        "leads": (f"/api/v1/leads?ref={ref}", api.auth),
        "batch": (f"/api/v1/leads/batch?ref={ref}", api.auth),
        "chatbot": (f"/api/v1/chatbots/{ref}/leads", api.auth),
        "kohomai": (f"/api/v1/journeys?ref={ref}", api.auth),
        "kickofflabs": (f"/v2/{ref}/", api.auth),
        "kickofflabs-keyless": (f"/v2/{ref}/", {}),
        "vcita": ("/platform/v1/leadgen", {"Authorization": f'Token token="{api.key}"'}),
    }


def _entries() -> list[IngestionEntry]:
    db.session.rollback()
    return list(db.session.scalars(db.select(IngestionEntry).order_by(IngestionEntry.id)))


@pytest.fixture
def batched(app):
    """The log written as in production: the calls' entries queued, then written together."""
    log_writer = app.extensions[writer.EXTENSION]
    log_writer.interval = 3600  # no thread flush during the test: the test flushes
    yield log_writer
    log_writer.stop()
    if log_writer._thread is not None:
        log_writer._thread.join(timeout=5)


# KickoffLabs and vcita read the body before they know the origin (KickoffLabs' key may be in
# it): a body they cannot read is logged in the origin the key (in a header) or the campaign id
# names, and vcita's in the workspace's default origin. Before, they logged nothing of it.
DOORS = ["leads", "batch", "chatbot", "kohomai", "kickofflabs", "kickofflabs-keyless", "vcita"]


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [(LONE_SURROGATE, "application/json"), (NUL_TEXT, "application/json")],
    ids=["lone-surrogate", "nul-text"],
)
def test_a_call_with_unstorable_text_is_logged_beside_the_calls_of_its_batch(
    client, default_api: ApiWorld, batched, door, body, content_type
):
    path, headers = _doors(default_api)[door]
    if door == "batch":
        body = b"[" + body + b"]"
    before = client.post(
        f"/api/v1/leads?ref={default_api.origin.ref}",
        headers=default_api.auth,
        json={"email": "before@example.com"},
    )
    refused = client.post(path, headers={**headers, "Content-Type": content_type}, data=body)
    after = client.post(
        f"/api/v1/leads?ref={default_api.origin.ref}",
        headers=default_api.auth,
        json={"email": "after@example.com"},
    )
    assert (before.status_code, after.status_code) == (201, 201)
    # Refused (400), or, in a batch, its one item (200).
    assert refused.status_code == (200 if door == "batch" and body[1:2] == b"{" else 400)

    assert batched.flush() == 3
    first, bad, last = _entries()
    assert (first.status, bad.status, last.status) == (201, refused.status_code, 201)
    assert "before@example.com" in first.body and "after@example.com" in last.body
    assert "ada@example.com" in bad.body
    assert REPLACEMENT in bad.body
    assert "\x00" not in bad.body


def test_an_unstorable_entry_alone_is_logged_as_the_suite_writes_it(client, default_api):
    """With no interval (each entry written at its answer, in the request's thread) the call is
    answered as it would be, and logged."""
    path, headers = _doors(default_api)["leads"]
    response = client.post(
        path, headers={**headers, "Content-Type": "application/json"}, data=LONE_SURROGATE
    )

    assert response.status_code == 400
    assert response.get_json()["code"] == "INVALID_JSON"
    (entry,) = _entries()
    assert entry.status == 400 and entry.codes == ["INVALID_JSON"]
    assert json.loads(entry.body) == {
        "email": "ada@example.com",
        "first_name": REPLACEMENT,
        REPLACEMENT: "x",
    }
