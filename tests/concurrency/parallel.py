"""Requests sent at the same moment to a real server (`conftest.serve`), and what they did:
the answers' statuses, the lead's events, a step's completions; staff signed in as a browser."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from leadsite.extensions import db
from leadsite.models import Event, JourneyStep
from tests import factories
from tests.conftest import CSRF_INPUT

PARALLEL = 12
# The servers these races run through: gunicorn with 2 x 16 threads (the most requests at once
# on a server of their own), and `flask run` with its worker inline. Gunicorn's 3 sync
# workers found nothing the other two did not, in twice the time.
SERVERS = ("gunicorn-gthread", "flask-run")


def parallel(
    send: Callable[[int], requests.Response], count: int = PARALLEL
) -> list[requests.Response]:
    """`send(index)` called `count` times at the same moment, one thread each."""
    start = threading.Barrier(count)

    def one(index: int) -> requests.Response:
        start.wait()
        return send(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def post(
    url: str, data: dict[str, Any], session: Any = requests, **options: Any
) -> requests.Response:
    """A form POST as a browser sends it, its redirect not followed."""
    return session.post(url, data=data, allow_redirects=False, timeout=60, **options)


def statuses(answers: list[requests.Response]) -> Counter[int]:
    return Counter(answer.status_code for answer in answers)


def events(lead_id: str) -> Counter[str]:
    return Counter(db.session.scalars(db.select(Event.type).filter_by(lead_id=lead_id)))


def completions(step_id: str) -> int:
    """The `journey.step_completed` events of this step."""
    found = db.session.scalars(db.select(Event).filter_by(type="journey.step_completed"))
    return sum(1 for event in found if (event.payload.get("step") or {}).get("id") == step_id)


def journey_step(journey_id: str, title: str) -> JourneyStep:
    """The journey's step of this title, as the database has it now."""
    return db.session.scalar(db.select(JourneyStep).filter_by(journey_id=journey_id, title=title))


def csrf(session: requests.Session, url: str) -> str:
    """The CSRF token of the page at `url`, as a browser reads it."""
    return CSRF_INPUT.search(session.get(url, timeout=30).text).group(1)


def signed_in(base: str, email: str) -> requests.Session:
    """A browser session of this staff user (the factories' password)."""
    session = requests.Session()
    data = {
        "email": email,
        "password": factories.PASSWORD,
        "csrf_token": csrf(session, f"{base}/login"),
    }
    answer = post(f"{base}/login", data, session)
    assert answer.status_code in (302, 303), answer.text[:500]
    return session
