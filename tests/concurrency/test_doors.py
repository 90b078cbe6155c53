"""Every door that registers, through a real server, as clients of the replaced systems call it:
at each dialect door PARALLEL registrations of one person at once; at the batch, batches of the
same ten people racing each other and single registrations of them; then, at every door at once,
bodies no column can hold or no parser can read.

Expected: no 5xx, one lead per person counted once per 2xx answer, one journey and one
`lead.created` each, the malformed calls refused (4xx) and logged, and no traceback in the
server's log. From outside, the malformed calls' ingestion log entries were refused by
PostgreSQL (a NUL, a lone surrogate), or lost their whole batch on SQLite, with a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.models import IngestionEntry, Lead, OriginKind
from tests import factories
from tests.concurrency.conftest import KINDS, Answer, LiveServer, serve
from tests.concurrency.world import stored, wait_for_the_worker

PARALLEL = 20
PEOPLE = 10  # in every batch
BATCHES = 4
Body = Callable[[str, int], dict[str, Any]]
# Bodies every door refuses (4xx; the batch's JSON object is no array: 422).
MALFORMED = [
    b'{"email": "ada@example.com", "first_name": "\\ud800", "\\udfff": "x"}',  # lone surrogates
    b"email=ada@example.com\x00\x00first_name=\xffAda",  # NUL bytes, not UTF-8, not JSON
    b"[" * 5000 + b"]" * 5000,  # nested past the parser
    b'{"email": "\xff\xfe@example.com"}',  # not UTF-8
]
# Every door logs a body it cannot read: KickoffLabs in the origin its key (header or query) or
# campaign id names, vcita in the workspace's default origin.
LOGGED = ("leads", "batch", "chatbot", "kohomai", "kickofflabs", "vcita")


def _doors(ref: str, key: str) -> dict[str, tuple[str, dict[str, str], Body]]:
    bearer = {"Authorization": f"Bearer {key}"}
    return {
        "leads": (f"/api/v1/leads?ref={ref}", bearer, lambda e, i: {"email": e, "tags": [f"t{i}"]}),
        "chatbot": (
            f"/api/v1/chatbots/{ref}/leads",
            bearer,
            lambda e, i: {"name": f"Ada N{i}", "email": e},
        ),
        "kohomai": (
            f"/api/v1/journeys?ref={ref}",
            bearer,
            lambda e, i: {"Email": e, "Firstname": f"N{i}"},
        ),
        "kickofflabs": (f"/v2/{ref}/", bearer, lambda e, i: {"email": e, "first_name": f"N{i}"}),
        "vcita": (
            "/platform/v1/leadgen",
            {"Authorization": f'Token token="{key}"'},
            lambda e, i: {
                "identifier_type": "email",
                "email": e,
                "first_name": f"N{i}",
                "request_title": "A call back",
            },
        ),
        "batch": (f"/api/v1/leads/batch?ref={ref}", bearer, lambda e, i: [{"email": e}]),
    }


def _world() -> tuple[str, str]:
    """An API origin, the workspace's default (vcita's door names none), on a staged funnel."""
    ws = factories.workspace("Acme")
    origin = factories.origin(factories.staged_funnel(ws), OriginKind.API)
    ws.default_origin_id = origin.id
    db.session.commit()
    return origin.ref, factories.api_key(ws)


@pytest.mark.parametrize("kind", KINDS)
def test_every_door_under_parallel_calls_makes_one_lead_per_person_and_logs_no_error(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    ref, key = _world()
    doors = _doors(ref, key)
    people = [f"person{n}@example.com" for n in range(PEOPLE)]
    with serve(app, kind, tmp_path) as server:
        answers = {
            door: server.post_all(
                path, [body(f"{door}@example.com", i) for i in range(PARALLEL)], headers
            )
            for door, (path, headers, body) in doors.items()
            if door != "batch"
        }
        batches, singles = _batches_racing_singles(server, doors, people)
        malformed = {
            door: server.post_all(path, MALFORMED, headers)
            for door, (path, headers, _) in doors.items()
        }
        wait_for_the_worker()

    for door, answered in answers.items():
        assert {a.status for a in answered} <= {200, 201}, _codes(answered)
        result = stored(f"{door}@example.com")
        assert [lead.counter for lead in result.leads] == [PARALLEL], door
        assert result.journeys == 1 and result.registrations["lead.created"] == 1, door
    assert all(a.status == 200 for a in batches), _codes(batches)
    assert {a.status for a in singles} <= {200, 201}, _codes(singles)
    counters = {email: stored(email) for email in people}
    expected = BATCHES + PARALLEL // PEOPLE
    assert {email: [lead.counter for lead in s.leads] for email, s in counters.items()} == {
        email: [expected] for email in people
    }
    assert all(s.journeys == 1 and s.registrations["lead.created"] == 1 for s in counters.values())
    for door, answered in malformed.items():
        assert all(400 <= a.status < 500 for a in answered), (door, _codes(answered))
    db.session.rollback()
    refused = db.session.scalar(
        db.select(db.func.count()).select_from(IngestionEntry).where(IngestionEntry.status >= 400)
    )
    malformed_leads = (
        db.select(db.func.count()).select_from(Lead).filter_by(email="ada@example.com")
    )
    assert db.session.scalar(malformed_leads) == 0
    # Every malformed call, at every door.
    assert refused == len(LOGGED) * len(MALFORMED)


def _batches_racing_singles(
    server: LiveServer, doors: dict[str, tuple[str, dict[str, str], Body]], people: list[str]
) -> tuple[list[Answer], list[Answer]]:
    """BATCHES batches of the same people (in both orders) and PARALLEL single registrations of
    them, all at once."""
    batch_path, headers, _ = doors["batch"]
    single_path, _, single = doors["leads"]
    batches = [
        [{"email": email} for email in (people if n % 2 else people[::-1])] for n in range(BATCHES)
    ]
    with ThreadPoolExecutor(2) as pool:
        sent_batches = pool.submit(server.post_all, batch_path, batches, headers)
        sent_singles = pool.submit(
            server.post_all,
            single_path,
            [single(people[i % PEOPLE], i) for i in range(PARALLEL)],
            headers,
        )
        return sent_batches.result(), sent_singles.result()


def _codes(answers: list[Answer]) -> list[tuple[int, object]]:
    return [(a.status, a.body.get("code")) for a in answers if a.status >= 300]
