"""N parallel registrations of one email (new, then existing) and N parallel POSTs with one
Idempotency-Key: prints the statuses and the lead's counter, exits 1 when they are wrong.

Against a running server (`make run` prints the key and the API origin's ref):

    .venv/bin/python bench/concurrency.py --url http://127.0.0.1:5000 --key KEY --ref REF

Without --url it serves a fresh database itself, under gunicorn with a worker process beside it
(--database postgresql://postgres@127.0.0.1 for PostgreSQL, else SQLite).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from _harness import BIN, ROOT, free_port, fresh_database, gunicorn, migrate, run


def post_all(url: str, key: str, bodies: list[dict], idempotency_key: str = "") -> list[tuple]:
    """POST every body at once; (status, JSON body) each."""
    start = threading.Barrier(len(bodies))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key

    def post(body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, {"code": raw[:80].decode(errors="replace")}

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def report(title: str, answers: list[tuple], expected_counter: int, expected: set[int]) -> bool:
    statuses = Counter(status for status, _ in answers)
    codes = Counter(body.get("code") for status, body in answers if status >= 300)
    counter = max((body["data"]["counter"] for s, body in answers if s < 300), default=None)
    good = set(statuses) <= expected and counter == expected_counter
    print(f"{title:<34} statuses {dict(sorted(statuses.items()))}  counter {counter}", end="")
    print(f" (expected {expected_counter})  {'ok' if good else 'WRONG'}", end="")
    print(f"  codes {dict(codes)}" if codes else "")
    return good


def trials(url: str, key: str, parallel: int, count: int) -> bool:
    good = True
    for trial in range(1, count + 1):
        email = f"conc-{uuid.uuid4().hex[:10]}@example.com"
        bodies = [{"Email": email, "Firstname": f"N{i}"} for i in range(parallel)]
        good &= report(
            f"trial {trial}: new email", post_all(url, key, bodies), parallel, {200, 201}
        )
        again = post_all(url, key, bodies)
        good &= report(f"trial {trial}: existing lead", again, 2 * parallel, {200})
    email = f"conc-{uuid.uuid4().hex[:10]}@example.com"
    same = [{"Email": email, "Firstname": "Ada"}] * parallel
    answers = post_all(url, key, same, idempotency_key=uuid.uuid4().hex)
    good &= report("one Idempotency-Key", answers, 1, {201, 409})
    return good


@contextmanager
def served(database: str | None, workers: int) -> Iterator[tuple[str, str, str]]:
    """A fresh database served by gunicorn, a worker process beside it: (url, key, ref)."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(database, Path(tmp), "conc") as db:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": db,
            "SECRET_KEY": "bench-concurrency",
            "BASE_URL": f"http://127.0.0.1:{port}",
            "LEADSITE_INLINE_WORKER": "0",
            "API_RATE_LIMIT": "100000 per second",
            "API_IP_RATE_LIMIT": "100000 per second",
        }
        flask = [str(BIN / "flask"), "--app", "app"]
        migrate(env)
        demo = json.loads(run([*flask, "leadsite", "demo", "--json"], env).splitlines()[-1])
        worker = subprocess.Popen(
            [*flask, "leadsite", "worker"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
        )
        try:
            with gunicorn("app:app", env, port, Path(tmp) / "gunicorn.log", workers) as base:
                yield base, demo["api_key"], demo["origins"]["api"]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server, e.g. http://127.0.0.1:5000")
    parser.add_argument("--key", help="its API key (with --url)")
    parser.add_argument("--ref", help="its API origin's ref (with --url)")
    parser.add_argument("-n", "--parallel", type=int, default=50, help="requests at once (50)")
    parser.add_argument("--trials", type=int, default=3, help="trials (3)")
    parser.add_argument("--database", help="postgresql://user@host to serve PostgreSQL itself")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers when serving")
    args = parser.parse_args()
    if args.url:
        if not (args.key and args.ref):
            parser.error("--url needs --key and --ref")
        url = f"{args.url.rstrip('/')}/api/v1/leads?ref={args.ref}"
        return 0 if trials(url, args.key, args.parallel, args.trials) else 1
    with served(args.database, args.workers) as (base, key, ref):
        print(f"gunicorn ({args.workers} sync workers) and a worker on {args.database or 'SQLite'}")
        good = trials(f"{base}/api/v1/leads?ref={ref}", key, args.parallel, args.trials)
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
