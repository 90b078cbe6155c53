"""The cost of counting a view, in-process: GET of the hosted page through Flask's test client
with counting off and on, in alternating blocks, CPU time per request included the writer's
thread; then `count()` and `is_bot()` alone. Steadier than wrk on a loaded machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _harness import BIN, migrate, run, source_version

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
HEADERS = {"User-Agent": CHROME, "Referer": "https://news.example.com/story"}


def block(client, path: str, requests: int) -> tuple[float, float]:
    """Seconds of wall and of process CPU per request, over `requests` GETs."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        if client.get(path, headers=HEADERS).status_code != 200:
            sys.exit(f"GET {path} failed")
    return (time.perf_counter() - wall) / requests, (time.process_time() - cpu) / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="GETs per block (300)")
    parser.add_argument("--rounds", type=int, default=5, help="off/on blocks (5)")
    parser.add_argument("--database", help="an empty PostgreSQL database's URL, not SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leadsite-bench-") as tmp:
        database = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        env = {**os.environ, "DATABASE_URL": database}
        env["SECRET_KEY"] = "bench"
        flask = [str(BIN / "flask"), "--app", "app"]
        migrate(env)
        demo = json.loads(run([*flask, "leadsite", "demo", "--json"], env).splitlines()[-1])
        os.environ.update(env)
        from leadsite import create_app
        from leadsite.analytics.bots import is_bot
        from leadsite.analytics.counters import count, flush
        from leadsite.extensions import db
        from leadsite.models import FormCount, FormEvent, Origin

        path = f"/r/{demo['origins']['page']}?utm_campaign=bench"
        apps = {name: create_app({"ANALYTICS_COUNTING": name == "on"}) for name in ("off", "on")}
        clients = {name: app.test_client() for name, app in apps.items()}
        for client in clients.values():
            block(client, path, 50)  # warm-up
        results: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
        for _ in range(args.rounds):
            for name, client in clients.items():
                results[name].append(block(client, path, args.requests))
        with apps["on"].app_context():
            flush()
            views = db.session.scalar(db.select(db.func.sum(FormCount.count)))
            origin = db.session.scalar(db.select(Origin).filter_by(ref=demo["origins"]["page"]))
            start = time.perf_counter()
            for _ in range(10_000):
                count(origin, FormEvent.VIEW, referrer_host="news.example.com")
            count_us = (time.perf_counter() - start) / 10_000 * 1e6
            start = time.perf_counter()
            written = flush()
            flush_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    for _ in range(10_000):
        is_bot(CHROME)
    cached_us = (time.perf_counter() - start) / 10_000 * 1e6
    start = time.perf_counter()
    for n in range(1_000):
        is_bot(f"{CHROME} build/{n}")
    fresh_us = (time.perf_counter() - start) / 1_000 * 1e6

    engine = "PostgreSQL" if args.database else "SQLite"
    print(f"GET {path} in-process, {engine}, {args.rounds} x {args.requests} per setting")
    print(f"commit {source_version()}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'counting':10}{'wall ms/GET':>13}{'CPU ms/GET':>12}  (median of blocks)")
    for name, blocks in results.items():
        wall = statistics.median(b[0] for b in blocks) * 1e3
        cpu = statistics.median(b[1] for b in blocks) * 1e3
        print(f"{name:10}{wall:13.3f}{cpu:12.3f}")
    print(
        f"views counted: {views} (GETs with counting on, warm-up included: "
        f"{50 + args.rounds * args.requests})"
    )
    print(
        f"count(): {count_us:.1f} us a call; 10,000 of one key flushed as {written} upsert "
        f"in {flush_ms:.1f} ms"
    )
    print(f"is_bot(): {cached_us:.1f} us for an agent seen before, {fresh_us:.0f} us for a new one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
