"""One registration at a time, in-process: where register.py's CPU goes, without HTTP or wrk.

Each app runs in its own child process against a fresh database (a SQLite file, or with
`--database` a PostgreSQL database of its own), through Flask's test client: `--requests` POSTs
after `--warmup` more, each timed, and the child's CPU time over them. For the full pipeline it
also times how long a registration holds its turn for SQLite's write lock (`writers_turn`, from
BEGIN IMMEDIATE to COMMIT), the share that a second gunicorn worker has to wait for.

"API door alone" is the full app answering the same POST with everything a registration does
but `register()`: the key check, both rate-limit windows, the `Idempotency-Key` check, the
origin lookup, the request id, metrics and ingestion-log hooks, the body's parse and validation
into a `LeadInput`, and the 201 answer in JSON, built from a registration made once at start
(`register()` is replaced by a function that returns it). So `full - door` is what `register()`
costs, and `door` against `bare` is what the issue asks of the door: no more than a bare
request's work. `--door` measures only those two. `--rounds N` runs the apps N times,
alternating, and reports medians: on a busy machine the CPU per request is the figure to trust.
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

from _databases import database_url, drop, is_postgres, recreate
from _harness import IN_PROCESS_ENV, ROOT, demo_in_process, source_version

BODY = {"first_name": "Bench"}
APPS = {
    "full": "full pipeline",
    "door": "API door alone",
    "bare": "bare Flask+SQLAlchemy",
}


def _timed(
    post: Callable[[int], int], warmup: int, requests: int, expected: int = 201
) -> dict[str, Any]:
    for n in range(warmup):
        if post(-1 - n) != expected:
            sys.exit(f"warm-up request {n} was not answered {expected}")
    times = []
    cpu = time.process_time()
    for n in range(requests):
        start = time.perf_counter()
        status = post(n)
        times.append(time.perf_counter() - start)
        if status != expected:
            sys.exit(f"request {n} answered {status}")
    return {"times": times, "cpu": time.process_time() - cpu}


def child_full(args: argparse.Namespace, door: bool = False) -> dict[str, Any]:
    demo = demo_in_process({**os.environ, **IN_PROCESS_ENV})  # limits as register.py's
    from app import app  # after the environment is set
    from leadsite.registration import batch as pipeline  # where register() takes its turn

    held: list[float] = []
    in_line = getattr(pipeline, "writers_turn", None)  # commits before it had none

    @contextmanager
    def timed_turn() -> Iterator[None]:
        assert in_line is not None
        with in_line():
            start = time.perf_counter()
            yield
            held.append(time.perf_counter() - start)

    if in_line is not None and not door:
        pipeline.writers_turn = timed_turn  # type: ignore[assignment]
    client = app.test_client()
    url = f"/api/v1/leads?ref={demo['origins']['api']}"
    headers = {"Authorization": f"Bearer {demo['api_key']}"}

    def post(n: int) -> int:
        body = {**BODY, "email": f"inprocess-{n}@example.com"}
        return client.post(url, json=body, headers=headers).status_code

    if door:
        _stop_after_door(post)
    result = _timed(post, args.warmup, args.requests)
    return {**result, "held": held[args.warmup :]}


def _stop_after_door(post: Callable[[int], int]) -> None:
    """Make one registration, then answer every request with it instead of registering."""
    from leadsite.api.dialects import doors

    made: list[Any] = []
    register = doors.register

    def keep(*args: Any) -> Any:
        made.append(register(*args))
        return made[-1]

    doors.register = keep  # type: ignore[assignment]
    if post(-(10**6)) != 201:
        sys.exit("the registration made for the door's answers failed")
    doors.register = lambda *args: made[0]  # type: ignore[assignment]


def child_bare(args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    from bare_app import app, db

    with app.app_context():
        db.create_all()
    client = app.test_client()

    def post(n: int) -> int:
        body = {**BODY, "email": f"inprocess-{n}@example.com"}
        return client.post("/leads", json=body).status_code

    return {**_timed(post, args.warmup, args.requests), "held": []}


def measure(app: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as workdir:
        if is_postgres(args.database):
            # BENCH_PG_DATABASE, as register.py: sessions on one server keep to their own names.
            name = os.environ.get("BENCH_PG_DATABASE", "leadsite_inprocess")
            url = database_url(args.database, f"{name}_{os.getpid()}")
            recreate(url)
        else:
            url = f"sqlite:///{Path(workdir) / 'bench.db'}"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-inprocess"}
        command = [sys.executable, __file__, "--child", app]
        command += ["--requests", str(args.requests), "--warmup", str(args.warmup)]
        try:
            output = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        finally:
            if is_postgres(args.database):
                drop(url)
        if output.returncode != 0:
            sys.exit(f"{app}: {output.stderr or output.stdout}")
        return json.loads(output.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="timed registrations (3000)")
    parser.add_argument("--warmup", type=int, default=300, help="untimed ones first (300)")
    parser.add_argument("--door", action="store_true", help="only the API door and the bare app")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each app, alternating")
    parser.add_argument("--database", help="postgresql://user@host to use PostgreSQL, not SQLite")
    parser.add_argument("--child", choices=APPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "bare":
            result = child_bare(args)
        else:
            result = child_full(args, door=args.child == "door")
        print(json.dumps(result))
        return

    apps = ["door", "bare"] if args.door else list(APPS)
    engine = "PostgreSQL" if is_postgres(args.database) else "SQLite"
    print(
        f"POST new leads in-process, {engine}, one at a time: {args.requests} after {args.warmup}"
    )
    print(f"commit {source_version()}, load average {os.getloadavg()[0]:.2f} at start")
    print(
        f"{'':24}{'median ms':>11}{'p10 ms':>8}{'p90 ms':>8}{'CPU ms/req':>12}{'write turn ms':>15}"
    )
    medians: dict[str, list[float]] = {app: [] for app in apps}
    cpus: dict[str, list[float]] = {app: [] for app in apps}
    for _ in range(args.rounds):
        for app in apps:
            result = measure(app, args)
            times = sorted(result["times"])
            medians[app].append(statistics.median(times) * 1e3)
            cpus[app].append(result["cpu"] * 1e3 / len(times))
            held = f"{statistics.median(result['held']) * 1e3:.2f}" if result["held"] else "-"
            deciles = statistics.quantiles(times, n=10)
            print(
                f"{APPS[app]:24}{medians[app][-1]:11.2f}{deciles[0] * 1e3:8.2f}"
                f"{deciles[-1] * 1e3:8.2f}{cpus[app][-1]:12.2f}{held:>15}",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    cpu = {app: statistics.median(values) for app, values in cpus.items()}
    wall = {app: statistics.median(values) for app, values in medians.items()}
    if args.rounds > 1:
        print(
            "medians of the rounds: "
            + ", ".join(f"{APPS[app]} {wall[app]:.2f} ms ({cpu[app]:.2f} ms CPU)" for app in apps)
        )
    print(
        f"API door alone / bare app, CPU per request: {cpu['door']:.2f} / {cpu['bare']:.2f} ms "
        f"= {cpu['door'] / cpu['bare']:.2f} (the issue: no more than 1)"
    )
    if "full" in cpu:
        print(f"ratio bare/full CPU per request: {cpu['bare'] / cpu['full']:.2f} (goal 0.6)")
        print(
            f"goal 0.6 of the bare app leaves {cpu['bare'] / 0.6:.2f} ms CPU a registration; "
            f"the API door alone takes {cpu['door']:.2f} ms, leaving "
            f"{cpu['bare'] / 0.6 - cpu['door']:.2f} ms for register() "
            f"(now {cpu['full'] - cpu['door']:.2f} ms)"
        )


if __name__ == "__main__":
    main()
