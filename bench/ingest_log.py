"""What the ingestion log costs a registration: the same app, in-process, alternating blocks of
registrations with the log's entry written and without it (`INGEST_LOG` off, as in production:
the door still notes the call, the metrics still count it, and the log's `after_request` hook
captures and queues nothing).

Alternating blocks in one process on one fresh SQLite file (or a fresh database, named
`BENCH_PG_DATABASE` or `leadsite_bench`, on the PostgreSQL server of `--database`) keeps
a loaded machine's drift out of the difference, which two separate runs of
`register_inprocess.py` do not. Reports, for each: the median wall and CPU time of a
registration's request, and the CPU the process spent per registration over whole blocks, the
log writer's thread included (each block ends by writing what it queued, counted in the block),
and on PostgreSQL the CPU its backends spent per registration (the inserts' own cost).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _harness import IN_PROCESS_ENV, demo_in_process, fresh_database
from sqlalchemy.engine import make_url


def backend_cpu_s(database: str | None) -> float:
    """CPU seconds spent so far by the PostgreSQL backends connected to this database (0 on
    SQLite): what the log's inserts cost the server, which the process's CPU leaves out."""
    if not database:
        return 0.0
    needle = f" {make_url(database).database} ".encode()
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            if not cmdline.startswith(b"postgres: ") or needle not in cmdline:
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=20, help="blocks of each kind (20)")
    parser.add_argument("--block", type=int, default=100, help="registrations a block (100)")
    parser.add_argument(
        "--database",
        help="postgresql://user@host[:port]: a fresh database on that server, dropped after "
        "(default: a fresh SQLite file)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=0,
        help="write the log every this many registrations, as the writer's thread would "
        "(0: once a block); prints the CPU the writes took per entry",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(args.database, Path(workdir), "bench") as url,
    ):
        env = {
            **os.environ,
            **IN_PROCESS_ENV,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-ingest-log",
        }
        demo = demo_in_process(env)
        measure(args, demo, url if url.startswith("postgres") else None)


def measure(args: argparse.Namespace, demo: dict, database: str | None) -> None:
    from app import app
    from leadsite.analytics import counter_writer
    from leadsite.ingestion import writer

    client = app.test_client()
    url = f"/api/v1/leads?ref={demo['origins']['api']}"
    headers = {"Authorization": f"Bearer {demo['api_key']}"}

    def switch(on: bool) -> None:
        app.config["INGEST_LOG"] = on

    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    blocks: dict[bool, list[float]] = {True: [], False: []}  # process CPU per registration
    backend: dict[bool, list[float]] = {True: [], False: []}  # PostgreSQL's, per registration
    count = 0

    def post() -> None:
        nonlocal count
        count += 1
        body = {"first_name": "Bench", "email": f"ingest-{count}@example.com"}
        wall, cpu = time.perf_counter(), time.process_time()
        status = client.post(url, json=body, headers=headers).status_code
        times[logged].append((time.perf_counter() - wall, time.process_time() - cpu))
        if status != 201:
            sys.exit(f"answered {status}")

    for logged in (True, False) * 2:  # warm-up, both ways
        switch(logged)
        for _ in range(args.block):
            post()
    times = {True: [], False: []}
    log_writer = app.extensions[writer.EXTENSION]
    log_writer.interval = 3600  # its thread asleep: the flushes below are the only writes
    flush_cpu = 0.0  # CPU of the flushes, in this thread
    for block in range(args.blocks * 2):
        logged = block % 2 == 0
        switch(logged)
        cpu, server = time.process_time(), backend_cpu_s(database)
        for number in range(args.block):
            post()
            if args.batch and (number + 1) % args.batch == 0 and logged:
                started = time.thread_time()
                log_writer.flush()
                flush_cpu += time.thread_time() - started
        started = time.thread_time()
        log_writer.flush()  # what this block queued is written within it
        flush_cpu += time.thread_time() - started if logged else 0
        blocks[logged].append((time.process_time() - cpu) / args.block)
        backend[logged].append((backend_cpu_s(database) - server) / args.block)
    switch(True)
    for writer_key in (writer.EXTENSION, counter_writer.EXTENSION):
        app.extensions[writer_key].stop()  # before the database is dropped
    load = os.getloadavg()[0]
    batch = args.batch or args.block
    print(
        f"{args.blocks} blocks of {args.block} registrations each way, entries written "
        f"{batch} at a time, load {load:.1f}: the writes took "
        f"{flush_cpu * 1e3 / (args.blocks * args.block):.3f} ms of CPU per entry"
    )
    for logged, label in ((False, "without the log"), (True, "with the log")):
        wall = statistics.median(t for t, _ in times[logged]) * 1e3
        cpu = statistics.median(c for _, c in times[logged]) * 1e3
        total = statistics.mean(blocks[logged]) * 1e3
        server = statistics.mean(backend[logged]) * 1e3
        print(
            f"{label:18} median wall {wall:6.2f} ms   median CPU {cpu:6.2f} ms   "
            f"CPU per registration: process {total:6.2f} ms, PostgreSQL {server:5.2f} ms, "
            f"both {total + server:6.2f} ms"
        )


if __name__ == "__main__":
    main()
