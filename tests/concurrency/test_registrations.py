"""50 registrations of one person at once, through a real server with its worker running the
lead's journey: every answer 200/201, one lead counted 50 times, one journey, one lead.created.
Through the API (a new email, then the same again) and through the hosted page.

On PostgreSQL a third to half of such requests used to answer 500 (deadlocks between the
registrations and the worker's steps on the lead's and the journey's rows).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from tests.concurrency.conftest import KINDS, serve
from tests.concurrency.world import WORKER_TAG, registration_world, stored, wait_for_the_worker
from tests.public.helpers import aged_token
from tests.servers import webhook_receiver

PARALLEL = 50
TRIALS = 2
FORM_EMAIL = "form@example.com"


@pytest.mark.parametrize("kind", KINDS)
def test_parallel_registrations_of_one_email_make_one_lead_counted_each_time(
    app: Flask, kind: str, tmp_path: Path
) -> None:
    with webhook_receiver() as receiver:
        world = registration_world(receiver.url)
        emails = [f"trial{trial}@example.com" for trial in range(TRIALS)]
        with serve(app, kind, tmp_path) as server:
            for email in emails:
                new = server.post_all(world.path, _bodies(email), world.auth)
                assert sorted(a.status for a in new) == [200] * (PARALLEL - 1) + [201], _codes(new)
                again = server.post_all(world.path, _bodies(email), world.auth)
                assert [a.status for a in again] == [200] * PARALLEL, _codes(again)
            forms = [_form(world.page_ref, FORM_EMAIL, index) for index in range(PARALLEL)]
            pages = server.post_all(f"/r/{world.page_ref}", forms, {}, form=True)
            assert [a.status for a in pages] == [200] * PARALLEL
            assert all("Thank you" in a.body["html"] for a in pages)
            wait_for_the_worker()
        created = [json.loads(r.body)["data"]["email"] for r in receiver.wait_for(TRIALS + 1)]

    for email in emails:
        result = stored(email)
        assert len(result.leads) == 1
        lead = result.leads[0]
        assert lead.counter == 2 * PARALLEL
        # The registrations' tags and the worker's, none lost to another's write.
        assert sorted(lead.tags) == sorted(["t0", "t1", "t2", WORKER_TAG])
        assert result.journeys == 1
        assert result.registrations["lead.created"] == 1
        assert result.registrations["lead.updated"] == 2 * PARALLEL - 1
    through_pages = stored(FORM_EMAIL)
    assert [lead.counter for lead in through_pages.leads] == [PARALLEL]
    assert through_pages.journeys == 1
    assert through_pages.registrations["lead.created"] == 1
    assert sorted(created) == sorted([*emails, FORM_EMAIL])


def _bodies(email: str) -> list[dict[str, object]]:
    return [
        {"Email": email, "Firstname": f"N{index}", "tags": [f"t{index % 3}"]}
        for index in range(PARALLEL)
    ]


def _form(ref: str, email: str, index: int) -> dict[str, str]:
    """The hosted page's form as a person fills it in (a token old enough, no honeypot)."""
    return {"_token": aged_token(ref), "website": "", "email": email, "first_name": f"N{index}"}


def _codes(answers: list) -> list[tuple[int, object]]:
    return [(a.status, a.body.get("code")) for a in answers if a.status >= 300]
