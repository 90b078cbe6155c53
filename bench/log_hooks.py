"""Where the ingestion log's cost falls in a registration's request: each request hook, teardown
and the view timed on its own (thread CPU), log on against off (`INGEST_LOG` switched, as in
`ingest_log.py`), in alternating blocks of one process, with the SQL statements, ORM loads and
refreshes, the session's transactions and the cyclic GC's collections counted each way.

Prints, for each part, the median CPU per request log on and off and the difference; then the
counts per request. The parts' sum is less than the request's CPU: Flask's and Werkzeug's own
work between the hooks is left out.
"""

from __future__ import annotations

import argparse
import collections
import functools
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import IN_PROCESS_ENV, demo_in_process, fresh_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=10, help="blocks of each kind (10)")
    parser.add_argument("--block", type=int, default=100, help="registrations a block (100)")
    parser.add_argument("--database", help="postgresql://user@host (default: SQLite)")
    parser.add_argument("--no-gc", action="store_true", help="the cyclic GC off while measuring")
    parser.add_argument("--calls", action="store_true", help="diff the view's function calls")
    parser.add_argument(
        "--control",
        action="store_true",
        help="the log off in both kinds of block: what the alternation alone shows",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.database, Path(workdir), "hooks") as url,
    ):
        env = {**os.environ, **IN_PROCESS_ENV, "DATABASE_URL": url, "SECRET_KEY": "bench-log-hooks"}
        demo = demo_in_process(env)
        measure(args, demo)


Counts = collections.Counter[str]


def measure(args: argparse.Namespace, demo: dict[str, Any]) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app import app
    from leadsite.analytics import counter_writer
    from leadsite.extensions import db
    from leadsite.ingestion import writer

    spent: collections.defaultdict[str, int] = collections.defaultdict(int)  # ns this request
    counts: Counts = collections.Counter()

    def timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*a: Any, **k: Any) -> Any:
            started = time.thread_time_ns()
            try:
                return func(*a, **k)
            finally:
                spent[name] += time.thread_time_ns() - started

        return wrapper

    def label(func: Callable[..., Any]) -> str:
        return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)}"

    for kind, table in (
        ("before", app.before_request_funcs),
        ("after", app.after_request_funcs),
        ("teardown", app.teardown_request_funcs),
    ):
        for key, funcs in table.items():
            table[key] = [timed(f"{kind} {label(f)}", f) for f in funcs]
    app.teardown_appcontext_funcs = [
        timed(f"appcontext {label(f)}", f) for f in app.teardown_appcontext_funcs
    ]
    app.view_functions["api.create_lead"] = timed(
        "view api.create_lead", app.view_functions["api.create_lead"]
    )

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        counts["statements"] += 1
        counts["SQL " + statement.split(None, 1)[0].upper()] += 1

    @event.listens_for(db.Model, "load", propagate=True)
    def _load(target, context):
        counts["ORM load"] += 1

    @event.listens_for(db.Model, "refresh", propagate=True)
    def _refresh(target, context, attrs):
        counts["ORM refresh"] += 1

    for name in ("after_begin", "after_commit", "after_rollback", "after_soft_rollback"):
        event.listen(Session, name, lambda *a, _n=name: counts.update([f"session {_n}"]))

    gc_started = [0]

    def _gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.thread_time_ns()
            counts[f"gc gen{info['generation']}"] += 1
        else:
            took = time.thread_time_ns() - gc_started[0]
            spent["(gc, within the parts above)"] += took
            spent[f"(gc gen{info['generation']})"] += took

    gc.callbacks.append(_gc)
    client = app.test_client()
    url = f"/api/v1/leads?ref={demo['origins']['api']}"
    headers = {"Authorization": f"Bearer {demo['api_key']}"}

    def switch(on: bool) -> None:
        app.config["INGEST_LOG"] = on and not args.control

    parts: dict[bool, collections.defaultdict[str, list[int]]] = {
        True: collections.defaultdict(list),
        False: collections.defaultdict(list),
    }
    counted: dict[bool, Counts] = {True: collections.Counter(), False: collections.Counter()}
    requests = {True: 0, False: 0}
    number = 0

    def post(logged: bool, keep: bool) -> None:
        nonlocal number
        number += 1
        spent.clear()
        counts.clear()
        body = {"first_name": "Bench", "email": f"hooks-{number}@example.com"}
        started = time.thread_time_ns()
        status = client.post(url, json=body, headers=headers).status_code
        total = time.thread_time_ns() - started
        if status != 201:
            sys.exit(f"answered {status}")
        if keep:
            for name, ns in spent.items():
                parts[logged][name].append(ns)
            parts[logged]["(whole request)"].append(total)
            counted[logged].update(counts)
            requests[logged] += 1

    log_writer = app.extensions[writer.EXTENSION]
    for logged in (True, False) * 2:
        switch(logged)
        for _ in range(args.block):
            post(logged, keep=False)
    log_writer.interval = 3600
    if args.no_gc:
        gc.collect()
        gc.disable()
    if args.calls:
        compare_calls(post, switch)
        for writer_key in (writer.EXTENSION, counter_writer.EXTENSION):
            app.extensions[writer_key].stop()
        return
    for block in range(args.blocks * 2):
        logged = block % 2 == 0
        switch(logged)
        for _ in range(args.block):
            post(logged, keep=True)
        log_writer.flush()
    switch(True)
    for writer_key in (writer.EXTENSION, counter_writer.EXTENSION):
        app.extensions[writer_key].stop()  # before the database is dropped

    print(
        f"{args.blocks} blocks of {args.block} registrations each way, load "
        f"{os.getloadavg()[0]:.1f}; thread CPU per request, median (us)"
    )
    print(f"{'part':62}{'on':>8}{'off':>8}{'on-off':>8}{'mean on':>9}{'off':>8}{'on-off':>8}")
    names = sorted(
        set(parts[True]) | set(parts[False]),
        key=lambda n: -statistics.median(parts[True].get(n) or [0]),
    )
    for name in names:
        on = statistics.median(parts[True].get(name) or [0]) / 1e3
        off = statistics.median(parts[False].get(name) or [0]) / 1e3
        mean_on = sum(parts[True].get(name) or [0]) / requests[True] / 1e3
        mean_off = sum(parts[False].get(name) or [0]) / requests[False] / 1e3
        print(
            f"{name[-62:]:62}{on:8.1f}{off:8.1f}{on - off:+8.1f}"
            f"{mean_on:9.1f}{mean_off:8.1f}{mean_on - mean_off:+8.1f}"
        )
    print("per request, on / off:")
    for name in sorted(set(counted[True]) | set(counted[False])):
        on = counted[True][name] / requests[True]
        off = counted[False][name] / requests[False]
        print(f"  {name:40}{on:8.2f}{off:8.2f}")


def compare_calls(post: Callable[[bool, bool], None], switch: Callable[[bool], None]) -> None:
    """Profile 200 registrations each way; print the functions whose call counts differ."""
    import cProfile
    import pstats

    calls: dict[bool, dict[str, int]] = {}
    for logged in (True, False):
        switch(logged)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            post(logged, False)
        profiler.disable()
        stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        calls[logged] = {
            f"{path.rsplit('/', 1)[-1]}:{line} {name}": ncalls
            for (path, line, name), (_, ncalls, *_rest) in stats.items()
        }
    switch(True)
    for name in sorted(set(calls[True]) | set(calls[False])):
        on, off = calls[True].get(name, 0), calls[False].get(name, 0)
        if on != off:
            print(f"{on / 200:9.2f}{off / 200:9.2f}  {name}")


if __name__ == "__main__":
    main()
