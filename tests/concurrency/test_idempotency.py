"""Parallel identical POSTs with one Idempotency-Key register once, through a real server: the
first request reserves the key, the others replay its answer or answer 409
`IDEMPOTENCY_IN_PROGRESS`. Ten of them used to register seven to ten times."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.concurrency.conftest import KINDS, Answer, serve
from tests.concurrency.world import registration_world, stored, wait_for_the_worker
from tests.servers import webhook_receiver

PARALLEL = 20
EMAIL = "once@example.com"


@pytest.mark.parametrize("kind", KINDS)
def test_parallel_posts_with_one_idempotency_key_register_once(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    with webhook_receiver() as receiver:
        world = registration_world(receiver.url)
        body = {"Email": EMAIL, "Firstname": "Ada"}
        with serve(app, kind, tmp_path) as server:
            first_key = {**world.auth, "Idempotency-Key": "signup-1"}
            new = server.post_all(world.path, [body] * PARALLEL, first_key)
            again = {**world.auth, "Idempotency-Key": "signup-2"}
            update = server.post_all(world.path, [body] * PARALLEL, again)
            later = server.post_all(world.path, [body], first_key)
            wait_for_the_worker()

    first = _one_answer_and_its_repeats(new, 201)
    _one_answer_and_its_repeats(update, 200)
    assert (later[0].status, later[0].body) == (201, first.body)
    assert later[0].headers.get("Idempotent-Replayed") == "true"
    result = stored(EMAIL)
    assert len(result.leads) == 1
    assert result.leads[0].counter == 2
    assert result.registrations["lead.created"] == 1
    assert result.registrations["lead.updated"] == 1


def _one_answer_and_its_repeats(answers: list[Answer], status: int) -> Answer:
    """The one answer that registered; every other is it replayed, or a 409 in progress."""
    firsts = [a for a in answers if a.status != 409 and "Idempotent-Replayed" not in a.headers]
    assert [a.status for a in firsts] == [status]
    first = firsts[0]
    for answer in answers:
        if answer is first:
            continue
        if answer.status == 409:
            assert answer.body["code"] == "IDEMPOTENCY_IN_PROGRESS"
        else:
            assert (answer.status, answer.body) == (status, first.body)
            assert answer.headers.get("Idempotent-Replayed") == "true"
    return first
