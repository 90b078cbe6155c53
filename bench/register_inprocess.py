"""One registration at a time, in-process: where register.py's CPU goes, without HTTP or wrk.

Each app runs in its own child process against a fresh SQLite file, through Flask's test client:
`--requests` POSTs after `--warmup` more, each timed. For the full pipeline it also times how
long a registration holds its turn for SQLite's write lock (`writers_turn`, from BEGIN IMMEDIATE
to COMMIT), the share that a second gunicorn worker has to wait for.

A third row, "API door only", sends the full app the same POST with a ref that names no origin:
it is answered 404 after everything a registration does before the pipeline (Flask, the API key
check, both rate-limit windows, the origin lookup), so `full - door` is what `register()` and
its response cost. The last lines compare that with what the goal (0.6 of the bare app's
requests/s) leaves per registration.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _harness import BIN, ROOT, run, source_version

BODY = {"first_name": "Bench"}
APPS = {
    "full": "full pipeline",
    "door": "API door only (404)",
    "bare": "bare Flask+SQLAlchemy",
}


def _timed(
    post: Callable[[int], int], warmup: int, requests: int, expected: int = 201
) -> list[float]:
    for n in range(warmup):
        if post(-1 - n) != expected:
            sys.exit(f"warm-up request {n} was not answered {expected}")
    times = []
    for n in range(requests):
        start = time.perf_counter()
        status = post(n)
        times.append(time.perf_counter() - start)
        if status != expected:
            sys.exit(f"request {n} answered {status}")
    return times


def child_full(args: argparse.Namespace, door: bool = False) -> dict[str, Any]:
    env = {
        **os.environ,
        "API_RATE_LIMIT": "100000 per second",  # as register.py: checked, never reached
        "API_IP_RATE_LIMIT": "100000 per second",
        "LEADSITE_INLINE_WORKER": "0",
    }
    flask = [str(BIN / "flask"), "--app", "app"]
    run([*flask, "db", "upgrade"], env)
    demo = json.loads(run([*flask, "leadsite", "demo", "--json"], env).splitlines()[-1])
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from app import app  # after the environment is set
    from leadsite.registration import pipeline

    held: list[float] = []
    in_line = getattr(pipeline, "writers_turn", None)  # commits before it had none

    @contextmanager
    def timed_turn() -> Iterator[None]:
        assert in_line is not None
        with in_line():
            start = time.perf_counter()
            yield
            held.append(time.perf_counter() - start)

    if in_line is not None:
        pipeline.writers_turn = timed_turn  # type: ignore[assignment]
    client = app.test_client()
    url = f"/api/v1/leads?ref={'no-such-ref' if door else demo['origins']['api']}"
    headers = {"Authorization": f"Bearer {demo['api_key']}"}

    def post(n: int) -> int:
        body = {**BODY, "email": f"inprocess-{n}@example.com"}
        return client.post(url, json=body, headers=headers).status_code

    times = _timed(post, args.warmup, args.requests, expected=404 if door else 201)
    return {"times": times, "held": held[args.warmup :]}


def child_bare(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    from bare_app import app, db

    with app.app_context():
        db.create_all()
    client = app.test_client()

    def post(n: int) -> int:
        body = {**BODY, "email": f"inprocess-{n}@example.com"}
        return client.post("/leads", json=body).status_code

    return {"times": _timed(post, args.warmup, args.requests), "held": []}


def measure(app: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(workdir) / 'bench.db'}"}
        env["SECRET_KEY"] = "bench-inprocess"
        command = [sys.executable, __file__, "--child", app]
        command += ["--requests", str(args.requests), "--warmup", str(args.warmup)]
        output = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        if output.returncode != 0:
            sys.exit(f"{app}: {output.stderr or output.stdout}")
        return json.loads(output.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="timed registrations (3000)")
    parser.add_argument("--warmup", type=int, default=300, help="untimed ones first (300)")
    parser.add_argument("--child", choices=APPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "bare":
            result = child_bare(args)
        else:
            result = child_full(args, door=args.child == "door")
        print(json.dumps(result))
        return

    print(f"POST new leads in-process, SQLite, one at a time: {args.requests} after {args.warmup}")
    print(f"commit {source_version()}, load average {os.getloadavg()[0]:.2f} at start")
    print(f"{'':24}{'median ms':>12}{'p10 ms':>10}{'p90 ms':>10}{'write turn ms':>15}")
    medians = {}
    for app in APPS:
        result = measure(app, args)
        times = sorted(result["times"])
        medians[app] = statistics.median(times)
        held = f"{statistics.median(result['held']) * 1e3:.2f}" if result["held"] else "-"
        deciles = statistics.quantiles(times, n=10)
        name = APPS[app]
        print(
            f"{name:24}{medians[app] * 1e3:12.2f}{deciles[0] * 1e3:10.2f}"
            f"{deciles[-1] * 1e3:10.2f}{held:>15}"
        )
    full, door, bare = (medians[app] * 1e3 for app in APPS)
    print(f"ratio bare/full time per request: {bare / full:.2f}")
    print(
        f"goal 0.6 of the bare app leaves {bare / 0.6:.2f} ms a registration; the API door "
        f"alone takes {door:.2f} ms, leaving {bare / 0.6 - door:.2f} ms for the pipeline "
        f"(now {full - door:.2f} ms)"
    )


if __name__ == "__main__":
    main()
