"""With Redis stopped, registrations go on: each process counts rate limits in its own memory,
with a warning, and counts in Redis again once it is back."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import redis

from tests.operations.conftest import ApiWorld
from tests.operations.processes import gunicorn, redis_server
from tests.servers import free_port


def _register(url: str, api: ApiWorld, email: str) -> int:
    request = urllib.request.Request(
        f"{url}/api/v1/leads?ref={api.origin.ref}",
        data=json.dumps({"email": email}).encode(),
        headers={"Content-Type": "application/json", **api.auth},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _limit_keys(port: int) -> list[bytes]:
    with redis.Redis(port=port) as client:
        return client.keys("LIMITS*")


def test_rate_limits_fall_back_to_memory_while_redis_is_away(app, api: ApiWorld, tmp_path):
    port = free_port()
    redis_log = tmp_path / "redis.log"
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "API_RATE_LIMIT": "3 per minute"}
    with (
        gunicorn(app, tmp_path / "gunicorn.log", **env) as served,
        redis_server(port, redis_log) as cache,
    ):
        shared = [_register(served.url, api, f"a{n}@example.com") for n in range(4)]
        assert _limit_keys(port)

        cache.terminate()
        cache.wait(timeout=10)
        alone = [_register(served.url, api, f"b{n}@example.com") for n in range(4)]

        with redis_server(port, redis_log):
            back, deadline = [], time.monotonic() + 15
            # The limiter looks for Redis again after 1, 2, 4... seconds.
            while not _limit_keys(port) and time.monotonic() < deadline:
                back.append(_register(served.url, api, f"c{len(back)}@example.com"))
                time.sleep(0.25)
            counted_again = _limit_keys(port)

    assert shared == [201, 201, 201, 429]
    # Redis gone: the first answer still registers, and the limit holds in memory.
    assert alone == [201, 201, 201, 429]
    assert back[-1] == 201 and counted_again, back
    logged = served.logged()
    assert "Rate limit storage unreachable - falling back to in-memory storage" in logged
    assert "Rate limit storage recovered" in logged
    assert "Traceback" not in logged
