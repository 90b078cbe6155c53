"""Benchmark POST /api/v1/leads under gunicorn against a bare Flask + SQLAlchemy insert app, or
(`--compare-log`) the real app with its ingestion log on against the same app with it off."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from _harness import (
    BIN,
    PG_BENCH_DATABASE,
    BenchError,
    ServiceCpu,
    WrkResult,
    free_port,
    fresh_database,
    gunicorn,
    migrate,
    preflight,
    run,
    source_version,
    wrk,
)
from sqlalchemy.engine import make_url

GOAL = 0.6  # the full pipeline's requests/s must reach this share of the bare app's
MAX_FAILED = 0.001  # more non-2xx or socket errors than this and the run is invalid

# Per-key and per-IP API limits (leadsite/config.py) the benchmark never reaches. Per second, so
# the in-memory moving windows stay as short as under the default per-minute limits.
RATE_LIMIT_ENV = {
    "API_RATE_LIMIT": "100000 per second",
    "API_IP_RATE_LIMIT": "100000 per second",
}


def bench_full(
    args: argparse.Namespace, workdir: Path, run_id: str, ingest_log: bool = True
) -> WrkResult:
    """The real app: migrate, create the demo workspace and key, POST through its API origin."""
    port = free_port()
    with fresh_database(args.database, workdir, "leadsite") as database_url:
        env = {
            **os.environ,
            **RATE_LIMIT_ENV,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-" + run_id,
            "BASE_URL": f"http://127.0.0.1:{port}",
            "LEADSITE_INLINE_WORKER": "0",
            "INGEST_LOG": "1" if ingest_log else "0",
        }
        flask = [str(BIN / "flask"), "--app", "app"]
        migrate(env)
        demo = json.loads(run([*flask, "leadsite", "demo", "--json"], env).splitlines()[-1])
        headers = {"Authorization": f"Bearer {demo['api_key']}"}
        with gunicorn("app:app", env, port, workdir / "full.log", args.workers) as base_url:
            url = f"{base_url}/api/v1/leads?ref={demo['origins']['api']}"
            settle = functools.partial(settle_database, database_url)
            return measure(args, url, headers, run_id, port, settle)


def bench_bare(args: argparse.Namespace, workdir: Path, run_id: str) -> WrkResult:
    """The baseline: bench/bare_app.py, one INSERT per POST /leads."""
    port = free_port()
    with fresh_database(args.database, workdir, "bare") as database_url:
        env = {**os.environ, "DATABASE_URL": database_url}
        run([str(BIN / "python"), "bench/bare_app.py", "init-db"], env)
        with gunicorn("bare_app:app", env, port, workdir / "bare.log", args.workers) as base_url:
            return measure(args, f"{base_url}/leads", {}, run_id, port)


class CpuByPart:
    """CPU time of the app's threads by name (the log writer's thread names itself
    `ingestion-log`, `batch_writer`), its other threads, and the PostgreSQL backends of its
    database, from /proc (Linux)."""

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, gunicorn_bind: str, database: str | None) -> None:
        self.bind = gunicorn_bind.encode()
        self.backend = f": postgres {database} ".encode() if database else None
        self.start = self._ticks()

    def spent_ms(self) -> dict[str, float]:
        """Milliseconds of CPU by part since this was made."""
        now = self._ticks()
        parts: dict[str, float] = {}
        for key, ticks in now.items():
            part = key[0]
            parts[part] = parts.get(part, 0) + (ticks - self.start.get(key, 0)) * 1000 / self.TICKS
        return parts

    def _ticks(self) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                if self.bind in cmdline:
                    for task in (entry / "task").iterdir():
                        name = (task / "comm").read_text().strip()
                        part = name if name in WRITER_THREADS else "app, other threads"
                        found[(part, int(task.name))] = _stat_ticks(task / "stat")
                elif self.backend and self.backend in cmdline:
                    found[("postgres backends", int(entry.name))] = _stat_ticks(entry / "stat")
            except OSError:  # gone meanwhile
                continue
        return found


WRITER_THREADS = ("ingestion-log", "analytics-count")


def _stat_ticks(stat: Path) -> int:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def settle_database(url: str) -> None:
    """Start the measured part of a run from the same state every run: the tables' statistics
    taken (this machine's PostgreSQL runs with autovacuum off, so the planner would otherwise
    plan on empty tables'), and the dirty pages of the set-up, the warm-up and the previous
    run's dropped database written out now (`CHECKPOINT`) rather than during the measurement.
    On SQLite: ANALYZE, and the WAL folded into the database."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(make_url(url).database or "")) as connection:
            connection.execute("ANALYZE")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    parsed = make_url(url)
    psql = ["psql", "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432)]
    psql += ["-U", parsed.username or "postgres", "-d", parsed.database or "", "-q"]
    run(
        [*psql, "-c", "ANALYZE", "-c", "CHECKPOINT"],
        {**os.environ, "PGPASSWORD": parsed.password or ""},
    )


def measure(
    args: argparse.Namespace,
    url: str,
    headers: dict[str, str],
    run_id: str,
    port: int = 0,
    settle: Callable[[], None] | None = None,
) -> WrkResult:
    preflight(url, headers, run_id)
    if args.warmup:
        wrk(url, headers, f"{run_id}w", args.warmup, args.connections, args.threads)
    if settle is not None:
        settle()
    result_load = os.getloadavg()[0]
    postgres = args.database and args.database.startswith("postgres")
    cpu = ServiceCpu(f"127.0.0.1:{port}", PG_BENCH_DATABASE if postgres else None)
    parts = CpuByPart(f"127.0.0.1:{port}", PG_BENCH_DATABASE if postgres else None)
    result = wrk(url, headers, run_id, args.duration, args.connections, args.threads)
    result.cpu_ms_per_request = cpu.spent_s() * 1000 / max(result.requests, 1)
    result.load_at_start = result_load  # type: ignore[attr-defined]
    result.cpu_ms_by_part = {  # type: ignore[attr-defined]
        part: ms / max(result.requests, 1) for part, ms in parts.spent_ms().items()
    }
    if result.failed_fraction > MAX_FAILED:
        raise BenchError(
            f"invalid run: {result.non_2xx} non-2xx {result.non_2xx_by_status} and "
            f"{result.socket_errors} socket errors in {result.requests} requests at {url}"
        )
    return result


def report(results: dict[str, WrkResult]) -> None:
    print(
        f"{'':24}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'non-2xx':>9}"
        f"{'CPU ms/req':>12}"
    )
    for name, r in results.items():
        print(
            f"{name:24}{r.requests_per_s:12.1f}{r.p50_ms:10.1f}{r.p99_ms:10.1f}"
            f"{r.requests:10d}{r.non_2xx:9d}{r.cpu_ms_per_request or 0:12.2f}"
        )
    if len(results) == 2:
        full, bare = results.values()
        ratio = full.requests_per_s / bare.requests_per_s
        verdict = "met" if ratio >= GOAL else "NOT met"
        print(f"ratio full/bare requests/s: {ratio:.2f} (goal >= {GOAL}: {verdict})")


def report_log_comparison(runs: dict[str, list[WrkResult]]) -> None:
    """Every run, then the median of each side and what the log costs."""
    print(
        f"{'':24}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'non-2xx':>9}"
        f"{'CPU ms/req':>12}"
    )
    for name, results in runs.items():
        for r in results:
            print(
                f"{name:24}{r.requests_per_s:12.1f}{r.p50_ms:10.1f}{r.p99_ms:10.1f}"
                f"{r.requests:10d}{r.non_2xx:9d}{r.cpu_ms_per_request or 0:12.2f}"
            )
    on, off = (statistics.median(r.requests_per_s for r in results) for results in runs.values())
    p50_on, p50_off = (statistics.median(r.p50_ms for r in results) for results in runs.values())
    cpu_on, cpu_off = (
        statistics.median(r.cpu_ms_per_request or 0 for r in results) for results in runs.values()
    )
    print("CPU ms per registration by part (median; min-max):")
    names = sorted(
        {part for results in runs.values() for r in results for part in r.cpu_ms_by_part}
    )
    for part in names:
        cells = []
        for side, results in runs.items():
            values = [r.cpu_ms_by_part.get(part, 0.0) for r in results]
            cells.append(
                f"{side.split(', ')[-1]} {statistics.median(values):.3f} "
                f"({min(values):.3f}-{max(values):.3f})"
            )
        print(f"  {part:22}" + ";  ".join(cells))
    rps = {side: [r.requests_per_s for r in results] for side, results in runs.items()}
    print(
        "requests/s spread: "
        + ";  ".join(f"{side} {min(v):.1f}-{max(v):.1f}" for side, v in rps.items())
    )
    service = {side: [r.cpu_ms_per_request or 0 for r in results] for side, results in runs.items()}
    print(
        "service CPU ms per registration spread: "
        + ";  ".join(f"{side} {min(v):.2f}-{max(v):.2f}" for side, v in service.items())
    )
    print(
        "load average as each measurement began: "
        + ";  ".join(
            f"{side} " + ", ".join(f"{r.load_at_start:.1f}" for r in results)
            for side, results in runs.items()
        )
    )
    print(
        f"median requests/s: log on {on:.1f}, log off {off:.1f} ({(on / off - 1) * 100:+.1f} %); "
        f"median p50: {p50_on:.1f} ms against {p50_off:.1f} ms\n"
        f"median service CPU per registration: log on {cpu_on:.2f} ms, log off {cpu_off:.2f} ms "
        f"({(cpu_on / cpu_off - 1) * 100:+.1f} %)"
    )


def compare_log(args: argparse.Namespace, tmp: Path) -> int:
    """The real app with the ingestion log on and off, alternating `--rounds` times, so that a
    change of the machine's load falls on both sides. Each run has a fresh database, analyzed
    and checkpointed after its warm-up (`settle_database`): no run inherits the previous one's
    rows, statistics or unwritten pages."""
    runs: dict[str, list[WrkResult]] = {"full, log on": [], "full, log off": []}
    pair = [("full, log on", True), ("full, log off", False)]
    for round_number in range(args.rounds):
        # Each side goes first in every other round: the first run of a pair starts while the
        # previous run's database is being dropped, which must not fall on one side only.
        for name, ingest_log in pair if round_number % 2 == 0 else pair[::-1]:
            bench = functools.partial(bench_full, ingest_log=ingest_log)
            try:
                runs[name].append(bench(args, tmp, uuid.uuid4().hex[:8]))
            except BenchError as error:
                print(f"{name}: {error}", file=sys.stderr)
                return 1
    report_log_comparison(runs)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up, 0 for none")
    parser.add_argument("--database", help="postgresql://user@host to use PostgreSQL, not SQLite")
    parser.add_argument("--only", choices=["full", "bare"], help="run one of the two apps")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app (2)")
    parser.add_argument(
        "--compare-log",
        action="store_true",
        help="the real app with the ingestion log on against off (INGEST_LOG=0), no bare app",
    )
    parser.add_argument("--rounds", type=int, default=3, help="on/off pairs with --compare-log")
    args = parser.parse_args()

    targets: dict[str, Callable[[argparse.Namespace, Path, str], WrkResult]] = {
        "full pipeline": bench_full,
        "bare Flask+SQLAlchemy": bench_bare,
    }
    if args.only:
        targets = {k: v for k, v in targets.items() if k.startswith(args.only)}
    engine = "PostgreSQL" if args.database and args.database.startswith("postgres") else "SQLite"
    print(
        f"POST new leads: {engine}, gunicorn -w {args.workers}, wrk {args.threads} threads, "
        f"{args.connections} connections, {args.duration} s (+{args.warmup} s warm-up)\n"
        f"commit {source_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    results: dict[str, WrkResult] = {}
    with tempfile.TemporaryDirectory(prefix="leadsite-bench-") as tmp:
        if args.compare_log:
            return compare_log(args, Path(tmp))
        for name, bench in targets.items():
            try:
                results[name] = bench(args, Path(tmp), uuid.uuid4().hex[:8])
            except BenchError as error:
                print(f"{name}: {error}", file=sys.stderr)
                return 1
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
