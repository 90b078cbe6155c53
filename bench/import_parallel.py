"""What writing an import's chunks in parallel would give: N new leads registered in chunks of 500
through `register_many` (the import job's path, as `import_floor.py` calls it) by K writers at
once, each on its own connection, on disjoint inputs, into one database.

What it found (bench/README.md, "Chunks written in parallel"; 2 cores shared with other work,
load average 5.1-10.7): on PostgreSQL disjoint chunks hardly wait on each other (lock waits in at
most 1 % of the backends' samples, the WAL or a file's extension 1-3 %), but the CPU a lead does
not fall with K (app about 480-510 us, server 250-257 us), so K writers only spread it over more
cores: 2 cores allow about 2,700-3,000 leads/s even idle, and 5,000 would need 3.4-3.9 cores for
the import alone. On SQLite every registration waits for the writers' turn (a `flock`; no
`database is locked`), 27-46 % of the time with 3-4 writers, and the turn holds about 300 us of
CPU a lead: at most about 3,300 leads/s whatever the cores. Two threads did about as well as two
processes. With `--overlap`, two writers left the earlier row's values on every lead named twice
in 3 runs of 8 (one writer: never): a parallel import gives up "later rows of the file win" for
chunks under way at once, and its resume would need rebuilding (`next_row` is a watermark, the
counts are absolute, `chunk_done` and the lease are one per import: `leads/imports/job.py`).

Per database, a template is made once (migrated, the demo workspace, its funnel's import origin,
`--seed` leads registered and ANALYZEd as the job does after its first chunk). Then, for each
round, every variant in turn (in reverse order on odd rounds) gets a fresh copy of it
(`createdb -T` / a file copy) and runs:

- **K processes** (K = 1, 2, 3, 4): K child processes, each with the app, its own connection and
  every K-th chunk of the N leads (round-robin, as K workers taking the next chunk would);
- **K threads** (`--threads 2`): one process, K threads, each in its own app context (its own
  session and connection), the chunks shared out the same way; the import runs in one worker
  process, and psycopg releases the GIL while it waits for the server.

Every writer first registers `WARM_LEADS` leads of its own (connection open, statements compiled)
and builds its inputs, then waits; all start together. Automatic cycle collection is off during
the run and each writer collects the young generations after each of its chunks (the job's
`no_cycle_collection`, per chunk). Measured, from the first writer's start to the last one's end:
leads/s; the writers' CPU a lead (their processes' `process_time`); on PostgreSQL the CPU a lead
of every backend connected to the database (from /proc, read before the writers exit) and what
the active backends were waiting on (`pg_stat_activity`, sampled every 50 ms from here); on
SQLite the share of the writers' time spent waiting for the writers' turn (`writers_turn`, the
`flock` every registration takes before `BEGIN IMMEDIATE`); the whole machine's busy share of
its cores (/proc/stat: the other users of the machine included); and warnings the app logged.
Afterwards the database must hold exactly seed + warm-up + N leads and as many journeys, and
exactly N leads (and N journeys) with the run's emails, each email once. With `--overlap F`, the
first F of each odd chunk's rows name the people of the same rows of the chunk before (another
writer's, under way at the same time when K > 1): the run's leads are then the people, and the
check counts the people named twice whose lead kept the earlier row's first name, where the
file's later row should win.

    .venv/bin/python bench/import_parallel.py
    .venv/bin/python bench/import_parallel.py --only postgresql --leads 12000 --rounds 3
    .venv/bin/python bench/import_parallel.py --leads 4000 --processes 1,2 --overlap 0.2
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from _databases import add_database_arguments, both_databases, clone, drop, recreate
from _harness import ROOT, ServiceCpu, lead_inputs, run, source_version
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

GOAL_ROWS_PER_S = 5_000
WARM_LEADS = 50
SAMPLE_SECONDS = 0.05


def _environ(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=url, LEADSITE_INLINE_WORKER="0", SECRET_KEY="bench", WEBHOOK_ALLOW_PRIVATE="1"
    )


def prepare(url: str, seed: int, chunk: int) -> dict[str, Any]:
    """Fill the template: the demo workspace, its funnel's import origin, `seed` leads."""
    _environ(url)
    from leadsite import create_app
    from leadsite.demo import ensure_demo_workspace
    from leadsite.extensions import db
    from leadsite.leads.imports.job import _keep_statistics
    from leadsite.leads.staff_origins import staff_origin
    from leadsite.models import Funnel, OriginKind
    from leadsite.registration import RegistrationContext
    from leadsite.registration.batch import register_many

    app = create_app()
    with app.app_context(), tempfile.TemporaryDirectory() as work:
        demo = ensure_demo_workspace("http://localhost", Path(work) / "credentials.json")
        origin = staff_origin(db.session.get(Funnel, demo.funnel_id), OriginKind.IMPORT)
        db.session.commit()
        origin_id = origin.id
        context = RegistrationContext()
        for start in range(0, seed, chunk):
            register_many(origin, lead_inputs("seed-", start, min(chunk, seed - start)), context)
        _keep_statistics(0, seed, first=True)  # ANALYZE on PostgreSQL, as the job does
    return {"origin_id": origin_id}


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}"[:300])


def _shared(n: int, chunk: int, overlap: float) -> int:
    """The number of the person row `n` names: its own, or with `overlap`, for the first
    `overlap` of the rows of each odd chunk, the person of the same row of the chunk before
    (that chunk is another writer's when K > 1: the two rows are written at once)."""
    position, index = n % chunk, n // chunk
    return n - chunk if index % 2 == 1 and position < overlap * chunk else n


def _inputs(prefix: str, start: int, count: int, chunk: int, overlap: float) -> list[Any]:
    """`lead_inputs`, each row with its own first name (`First<n>`), its email its person's."""
    from dataclasses import replace

    rows = lead_inputs(prefix, start, count)
    return [
        replace(row, email=f"{prefix}{_shared(n, chunk, overlap)}@example.com")
        for n, row in zip(range(start, start + count), rows, strict=True)
    ]


def worker(
    url: str,
    origin_id: str,
    prefix: str,
    chunks: list[list[int]],
    threads: int,
    overlap: float = 0.0,
) -> None:
    """Register `chunks` ([start, count] of the run's numbering) in `threads` lanes; print READY,
    wait for a line on stdin, run, print the result as JSON, wait for another line, exit."""
    _environ(url)
    import leadsite.registration.batch as batch_module
    from leadsite import create_app
    from leadsite.extensions import db
    from leadsite.models import Origin
    from leadsite.registration import RegistrationContext

    turns: list[tuple[float, float, float]] = []  # (waited, held, CPU held) a write transaction
    original_turn = batch_module.writers_turn

    @contextmanager
    def timed_turn() -> Iterator[None]:
        asked = time.monotonic()
        with original_turn():
            got, cpu = time.monotonic(), time.thread_time()
            try:
                yield
            finally:
                held = time.monotonic() - got
                turns.append((got - asked, held, time.thread_time() - cpu))

    batch_module.writers_turn = timed_turn  # registrations only; the counters' writer is not timed
    warnings = _Warnings()
    logging.getLogger().addHandler(warnings)
    app = create_app()
    postgres = url.startswith("postgres")
    lanes: list[dict[str, Any]] = [{} for _ in range(threads)]
    ready, go = threading.Barrier(threads + 1), threading.Event()

    def lane(number: int) -> None:
        mine = chunks[number::threads]
        with app.app_context():
            origin = db.session.get(Origin, origin_id)
            context = RegistrationContext()
            warm = lead_inputs(f"warm{prefix}{os.getpid()}-{number}-", 0, WARM_LEADS)
            batch_module.register_many(origin, warm, context)
            size = max(count for _, count in chunks)
            inputs = [_inputs(prefix, start, count, size, overlap) for start, count in mine]
            if postgres:
                lanes[number]["backend"] = db.session.scalar(text("SELECT pg_backend_pid()"))
            db.session.commit()
            ready.wait()
            go.wait()
            started, cpu, took = time.monotonic(), time.thread_time(), []
            for batch in inputs:
                at = time.monotonic()
                batch_module.register_many(origin, batch, context)
                gc.collect(1)
                took.append(time.monotonic() - at)
            lanes[number].update(
                started=started,
                ended=time.monotonic(),
                thread_cpu=time.thread_time() - cpu,
                chunk_seconds=took,
            )

    running = [threading.Thread(target=lane, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    ready.wait()
    turns.clear()  # the warm-up's
    print("READY", flush=True)
    sys.stdin.readline()
    gc.disable()
    cpu = time.process_time()
    go.set()
    for thread in running:
        thread.join()
    cpu = time.process_time() - cpu
    gc.enable()
    result = {"lanes": lanes, "cpu": cpu, "turns": turns, "warnings": warnings.messages}
    print(json.dumps(result), flush=True)
    sys.stdin.readline()


def _machine_ticks() -> tuple[int, int]:
    """(busy, all) jiffies of every core since boot (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


class WaitSampler(threading.Thread):
    """What the database's active backends wait on, every SAMPLE_SECONDS (PostgreSQL)."""

    def __init__(self, server: str, database: str) -> None:
        super().__init__(daemon=True)
        self.server, self.database = server, database
        self.samples: Counter[str] = Counter()
        self.stopping = threading.Event()

    def run(self) -> None:
        import psycopg

        query = (
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity"
            " WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()"
        )
        plain = make_url(self.server).render_as_string(hide_password=False)
        with psycopg.connect(plain.replace("postgresql+psycopg", "postgresql")) as connection:
            connection.autocommit = True
            while not self.stopping.wait(SAMPLE_SECONDS):
                rows = connection.execute(query, (self.database,)).fetchall()
                self.samples.update(row[0] for row in rows)


def run_variant(
    url: str, origin_id: str, base: int, args: argparse.Namespace, mode: str, k: int, tag: str
) -> dict[str, Any]:
    """One run of `k` writers (processes or threads) on the database at `url`, which holds
    `base` leads (and journeys) before it."""
    server = args.postgres
    chunks = [
        [start, min(args.chunk, args.leads - start)] for start in range(0, args.leads, args.chunk)
    ]
    worker_command = [sys.executable, __file__, "--worker", url, "--origin", origin_id]
    worker_command += ["--prefix", tag, "--overlap", str(args.overlap)]
    if mode == "processes":
        commands = [
            [*worker_command, "--chunks", json.dumps(chunks[n::k]), "--threads", "1"]
            for n in range(k)
        ]
    else:
        commands = [[*worker_command, "--chunks", json.dumps(chunks), "--threads", str(k)]]
    children = [
        subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for command in commands
    ]
    for child in children:
        line = child.stdout.readline() if child.stdout else ""
        if line.strip() != "READY":
            sys.exit(f"a writer did not start ({line!r}); its stderr is above")
    postgres = url.startswith("postgres")
    name = make_url(url).database or ""
    backends = ServiceCpu(f": postgres {name} ") if postgres else None
    sampler = WaitSampler(server, name) if postgres else None
    if sampler:
        sampler.start()
    busy, every = _machine_ticks()
    load = os.getloadavg()[0]
    for child in children:
        assert child.stdin
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [json.loads(child.stdout.readline()) for child in children if child.stdout]
    server_cpu = backends.spent_s() if backends else 0.0
    busy, every = (
        now - before for now, before in zip(_machine_ticks(), (busy, every), strict=True)
    )
    if sampler:
        sampler.stopping.set()
        sampler.join()
    for child in children:
        assert child.stdin
        child.stdin.write("quit\n")
        child.stdin.flush()
        if child.wait(timeout=120) != 0:
            sys.exit("a writer failed; its stderr is above")
    lanes = [lane for result in results for lane in result["lanes"]]
    wall = max(lane["ended"] for lane in lanes) - min(lane["started"] for lane in lanes)
    turns = [turn for result in results for turn in result["turns"]]
    lane_seconds = sum(lane["ended"] - lane["started"] for lane in lanes)
    return {
        "mode": mode,
        "k": k,
        "wall": wall,
        "rate": args.leads / wall,
        "app_cpu_us": sum(result["cpu"] for result in results) / args.leads * 1e6,
        "server_cpu_us": server_cpu / args.leads * 1e6,
        "busy": busy / every,
        "cores": (sum(result["cpu"] for result in results) + server_cpu) / wall,
        "load": load,
        "turn_wait": sum(turn[0] for turn in turns) / lane_seconds,
        "turn_held_us": sum(turn[1] for turn in turns) / args.leads * 1e6,
        "turn_cpu_us": sum(turn[2] for turn in turns) / args.leads * 1e6,
        "waits": dict(sampler.samples) if sampler else {},
        "warnings": [message for result in results for message in result["warnings"]],
        "chunk_s": [lane["chunk_seconds"] for lane in lanes],
        "check": check(url, tag, args, base + WARM_LEADS * len(lanes)),
    }


def _engine(url: str) -> Any:
    if url.startswith("postgres"):
        url = (
            make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        )
    return create_engine(url)


def counts(url: str) -> tuple[int, int]:
    """(leads, journeys) in the database."""
    engine = _engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT (SELECT count(*) FROM leads), (SELECT count(*) FROM journeys)")
        ).one()
    engine.dispose()
    return found[0], found[1]


def check(url: str, tag: str, args: argparse.Namespace, before: int) -> str:
    """'ok', or what the database holds that it should not (`before`: leads and journeys in
    it before the run, the warm-ups' included); with `--overlap`, how many of the people named
    twice kept an earlier row's first name (the file's later row should win)."""
    last: dict[int, int] = {}  # person -> the last row naming them
    for n in range(args.leads):
        last[_shared(n, args.chunk, args.overlap)] = n
    total, journeys = counts(url)
    engine = _engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT leads.email, leads.first_name, count(journeys.id) FROM leads"
                " LEFT JOIN journeys ON journeys.lead_id = leads.id WHERE leads.email LIKE :p"
                " GROUP BY leads.id, leads.email, leads.first_name"
            ),
            {"p": f"{tag}%"},
        ).all()
    engine.dispose()
    people = len(last)
    found = (total, journeys, len(rows), len({row[0] for row in rows}), sum(row[2] for row in rows))
    expected = (before + people, before + people, people, people, people)
    if found != expected:
        return f"WRONG: {found} != {expected}"
    shared = {person for person, n in last.items() if n != person}
    earlier = sum(
        1
        for email, first_name, _ in rows
        if int(email[len(tag) :].split("@")[0]) in shared
        and first_name != f"First{last[int(email[len(tag) :].split('@')[0])]}"
    )
    return f"ok, earlier row won {earlier} of {len(shared)}" if shared else "ok"


def _waits(waits: dict[str, int]) -> str:
    total = sum(waits.values())
    if not total:
        return "-"
    top = sorted(waits.items(), key=lambda item: -item[1])[:4]
    return ", ".join(f"{name} {count / total:.0%}" for name, count in top)


def _line(name: str, result: dict[str, Any], single: float | None) -> str:
    label = f"{result['k']} {result['mode']}"
    gain = f"{result['rate'] / single:.2f}" if single else "-"
    server = f"{result['server_cpu_us']:.0f}" if name == "postgresql" else "-"
    waited = (
        _waits(result["waits"])
        if name == "postgresql"
        else f"turn: waited {result['turn_wait']:.0%}; held {result['turn_held_us']:.0f} us a "
        f"lead, {result['turn_cpu_us']:.0f} of them CPU"
    )
    return (
        f"{name:<10} {label:<11} {result['load']:>5.2f} {result['wall']:>6.2f} "
        f"{result['rate']:>8,.0f} {gain:>5} {result['app_cpu_us']:>7.0f} {server:>7} "
        f"{result['cores']:>5.2f} {result['busy']:>5.0%} {result['check']:<4} {waited}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=12_000, help="new leads a run (12000)")
    parser.add_argument("--chunk", type=int, default=500, help="leads a chunk (500)")
    parser.add_argument("--seed", type=int, default=4_000, help="leads in the template (4000)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant (2)")
    parser.add_argument(
        "--processes",
        type=lambda text: [int(k) for k in text.split(",")],
        default=[1, 2, 3, 4],
        help="the process variants' K, with 1 (1,2,3,4)",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads of the thread variant")
    parser.add_argument(
        "--overlap",
        type=float,
        default=0.0,
        help="share of each odd chunk's rows that name the person of the chunk before (0)",
    )
    add_database_arguments(parser, "lt_import_parallel")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--origin", help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    parser.add_argument("--chunks", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        chunks = json.loads(args.chunks)
        worker(args.worker, args.origin, args.prefix, chunks, args.threads, args.overlap)
        return
    if args.prepare:
        print(json.dumps(prepare(args.prepare, args.seed, args.chunk)))
        return
    variants = [("processes", k) for k in args.processes] + [("threads", args.threads)]
    templates = both_databases("import_parallel_t", args.postgres, f"{args.pg_name}_t", args.only)
    runs = both_databases("import_parallel", args.postgres, args.pg_name, args.only)
    print(
        f"bench/import_parallel.py at {source_version()}: {args.leads:,} new leads a run in chunks "
        f"of {args.chunk} after {args.seed:,}, {args.rounds} rounds, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'database':<10} {'writers':<11} {'load':>5} {'wall s':>6} {'leads/s':>8} {'x1':>5} "
        f"{'app us':>7} {'srv us':>7} {'cores':>5} {'busy':>5} {'rows':<4} waits"
    )
    for name, template in templates.items():
        recreate(template)
        command = [sys.executable, __file__, "--prepare", template, "--seed", str(args.seed)]
        origin_id = json.loads(run(command, os.environ).splitlines()[-1])["origin_id"]
        base, journeys = counts(template)
        if base != journeys:
            sys.exit(f"{name}: the template holds {base} leads but {journeys} journeys")
        results: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for round_number in range(args.rounds):
            order = variants if round_number % 2 == 0 else variants[::-1]
            for mode, k in order:
                clone(template, runs[name])
                tag = f"r{round_number}{mode[0]}{k}-"
                result = run_variant(runs[name], origin_id, base, args, mode, k, tag)
                results.setdefault((mode, k), []).append(result)
                single = statistics.median(
                    r["rate"] for r in results.get(("processes", 1), []) or [result]
                )
                print(
                    _line(name, result, single if (mode, k) != ("processes", 1) else None),
                    flush=True,
                )
                for message in result["warnings"][:3]:
                    print(f"{'':<10} warning: {message}")
        print(f"{name}: medians of {args.rounds} rounds")
        single = statistics.median(r["rate"] for r in results[("processes", 1)])
        for (mode, k), items in results.items():
            rate = statistics.median(r["rate"] for r in items)
            each = ", ".join(f"{r['rate']:,.0f}" for r in items)
            app = statistics.median(r["app_cpu_us"] for r in items)
            srv = statistics.median(r["server_cpu_us"] for r in items)
            cores = statistics.median(r["cores"] for r in items)
            print(
                f"  {k} {mode:<9} {rate:>7,.0f} leads/s ({each}), x{rate / single:.2f}, "
                f"/goal {rate / GOAL_ROWS_PER_S:.2f}; CPU a lead: app {app:.0f} + server "
                f"{srv:.0f} us; {cores:.2f} cores used"
            )
        first = results[("processes", 1)][0]["chunk_s"][0]
        print(f"  1 process, its chunks' seconds: {', '.join(f'{s:.2f}' for s in first)}")
        drop(runs[name])
        drop(template)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
