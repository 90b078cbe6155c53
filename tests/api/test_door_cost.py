"""What the API door costs a registration: no statement it need not send, no thread per hit."""

from __future__ import annotations

import time

from limits import parse
from limits.strategies import SlidingWindowCounterRateLimiter

from leadsite.accounts import hash_api_key
from leadsite.extensions import SweptMemoryStorage, db
from leadsite.models import Lead, OriginKind, OutboxMessage
from tests import factories
from tests.statements import captured_statements


def _reads_of(table: str, statements: list[tuple[str, object]]) -> list[str]:
    return [
        statement
        for statement, _ in statements
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table} " in statement
    ]


def test_a_registration_reads_its_origin_funnel_and_workspace_once(api):
    # Nothing of the test's own left in the session: the request finds what it loads itself.
    db.session.close()

    with captured_statements() as statements:
        response = api.register({"email": "once@example.com"})

    assert response.status_code == 201
    assert _reads_of("funnels", statements) == []
    assert _reads_of("workspaces", statements) == []
    origin_reads = [statement for statement, _ in statements if " origins" in statement]
    assert len(origin_reads) == 1 and "JOIN funnels" in origin_reads[0]


def test_the_key_and_the_origin_are_read_in_one_statement(api):
    with captured_statements() as statements:
        response = api.register({"email": "one@example.com"})

    assert response.status_code == 201
    (key_read,) = _reads_of("api_keys", statements)
    assert "JOIN origins" in key_read
    assert _reads_of("origins", statements) == []


def test_a_ref_of_another_workspace_is_not_found_with_the_key_read(api):
    other = factories.origin(factories.staged_funnel(factories.workspace("Other")), OriginKind.API)

    response = api.register({"email": "other@example.com"}, ref=other.ref)

    assert response.status_code == 404
    assert response.json["code"] == "NOT_FOUND"
    assert db.session.scalar(db.select(db.func.count()).select_from(Lead)) == 0


def test_a_new_lead_reads_the_workspace_webhook_endpoints_once(api):
    endpoint = factories.webhook_endpoint(api.workspace)
    db.session.close()

    with captured_statements() as statements:
        response = api.register({"email": "new@example.com"})

    assert response.status_code == 201
    assert len(_reads_of("webhook_endpoints", statements)) == 1
    # The endpoint read before the write lock is the one its events go to.
    messages = db.session.scalars(db.select(OutboxMessage)).all()
    assert {message.endpoint_id for message in messages} == {endpoint.id}


def test_an_update_reads_the_endpoints_again_with_the_lead_locked(api):
    endpoint = factories.webhook_endpoint(api.workspace)
    assert api.register({"email": "again@example.com"}).status_code == 201
    db.session.close()

    with captured_statements() as statements:
        response = api.register({"email": "again@example.com", "first_name": "Again"})

    assert response.status_code == 200
    # Once before the lock, for the new lead it might have been, once with the lead's own.
    assert len(_reads_of("webhook_endpoints", statements)) == 2
    updated = db.session.scalars(
        db.select(OutboxMessage).where(OutboxMessage.payload["type"].as_string() == "lead.updated")
    ).all()
    assert [message.endpoint_id for message in updated] == [endpoint.id]


def test_the_in_memory_rate_limits_sweep_at_most_once_a_second():
    storage = SweptMemoryStorage("leadsite-memory://")
    limiter = SlidingWindowCounterRateLimiter(storage)
    limit = parse("3 per second")
    timers = [storage.timer]

    answers = []
    for n in range(40):
        answers.append(limiter.hit(limit, "door", str(n % 2)))
        if all(timer is not storage.timer for timer in timers):
            timers.append(storage.timer)
        time.sleep(0.015)  # longer than limits' own 10 ms sweep timer

    assert len(timers) <= 2  # limits' own storage starts a thread after almost every hit
    # Still counted and refused as before: 3 a second for each of the two keys, no more.
    assert answers[:6] == [True] * 6
    assert answers.count(True) <= 12  # 40 hits spread over about 0.6-1.5 s
    time.sleep(2.1)
    assert limiter.hit(limit, "door", "0")


def test_a_request_hashes_its_key_once(api, monkeypatch):
    from leadsite.api import auth

    hashed: list[str] = []

    def counted(secret: str) -> str:
        hashed.append(secret)
        return hash_api_key(secret)

    monkeypatch.setattr(auth, "hash_api_key", counted)
    response = api.register({"email": "hashed@example.com"})

    assert response.status_code == 201
    assert hashed == [api.key]  # the per-key rate limit's key and the key check share it
