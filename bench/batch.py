"""Benchmark POST /api/v1/leads/batch (500 new leads a call) against POST /api/v1/leads (one a
call) on the same server in the same run: leads/s, and p50/p99 per call.

    .venv/bin/python bench/batch.py                                  # SQLite
    .venv/bin/python bench/batch.py --database postgresql://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import _harness
from _harness import BIN, BenchError, free_port, fresh_database, gunicorn, run, source_version
from register import RATE_LIMIT_ENV

# A PostgreSQL database of this benchmark's own: others may run at the same time.
_harness.PG_BENCH_DATABASE = os.environ.get("BENCH_PG_DATABASE", "leadsite_bench_batch")

BATCH = 500


@dataclass
class Calls:
    name: str
    leads_per_call: int
    seconds: float
    latencies_ms: list[float]
    failures: int

    @property
    def leads_per_s(self) -> float:
        return len(self.latencies_ms) * self.leads_per_call / self.seconds

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def post(url: str, headers: dict[str, str], body: object) -> tuple[int, object]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()[:500]


def drive(
    name: str,
    url: str,
    headers: dict[str, str],
    make_body: Callable[[int, int], object],
    leads_per_call: int,
    clients: int,
    seconds: float,
) -> Calls:
    """`clients` threads posting bodies back to back for `seconds`."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        sent = 0
        while time.monotonic() < stop:
            sent += 1
            body = make_body(number, sent)
            started = time.perf_counter()
            status, answer = post(url, headers, body)
            took = (time.perf_counter() - started) * 1000
            ok = status in (200, 201) and (
                leads_per_call == 1 or answer["counts"]["created"] == leads_per_call
            )
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    failures[0] += 1
                    print(f"{name}: {status} {str(answer)[:300]}", file=sys.stderr)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Calls(name, leads_per_call, time.monotonic() - started, latencies, failures[0])


def bench(args: argparse.Namespace, workdir: Path, run_id: str) -> list[Calls]:
    port = free_port()
    with fresh_database(args.database, workdir, "batch") as database_url:
        env = {
            **os.environ,
            **RATE_LIMIT_ENV,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench-" + run_id,
            "BASE_URL": f"http://127.0.0.1:{port}",
            "LEADSITE_INLINE_WORKER": "0",
        }
        flask = [str(BIN / "flask"), "--app", "app"]
        _harness.migrate(env)
        demo = json.loads(run([*flask, "leadsite", "demo", "--json"], env).splitlines()[-1])
        headers = {
            "Authorization": f"Bearer {demo['api_key']}",
            "Content-Type": "application/json",
        }
        ref = demo["origins"]["api"]
        with gunicorn("app:app", env, port, workdir / "batch.log", args.workers) as base_url:

            def one(client: int, sent: int) -> object:
                return {"email": f"s-{run_id}-{client}-{sent}@example.com", "first_name": "Bench"}

            def many(client: int, sent: int) -> object:
                return [
                    {"email": f"b-{run_id}-{client}-{sent}-{n}@example.com", "first_name": "Bench"}
                    for n in range(BATCH)
                ]

            def warm(client: int, sent: int) -> object:
                return [{"email": f"w-{run_id}-{sent}-{n}@example.com"} for n in range(BATCH)]

            single_url = f"{base_url}/api/v1/leads?ref={ref}"
            batch_url = f"{base_url}/api/v1/leads/batch?ref={ref}"
            drive("warm-up", batch_url, headers, warm, BATCH, 1, 1)
            return [
                drive("single", single_url, headers, one, 1, args.clients, args.duration),
                drive("batch of 500", batch_url, headers, many, BATCH, args.clients, args.duration),
            ]


def report(results: list[Calls]) -> None:
    print(f"{'':16}{'leads/s':>10}{'calls':>8}{'p50 ms':>10}{'p99 ms':>10}{'failed':>8}")
    for r in results:
        print(
            f"{r.name:16}{r.leads_per_s:10.1f}{len(r.latencies_ms):8d}"
            f"{statistics.median(r.latencies_ms) if r.latencies_ms else 0:10.1f}"
            f"{r.percentile(0.99):10.1f}{r.failures:8d}"
        )
    single, batch = results
    if single.leads_per_s:
        print(f"batch/single leads/s: {batch.leads_per_s / single.leads_per_s:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=10, help="seconds per side (10)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--database", help="postgresql://user@host to use PostgreSQL, not SQLite")
    args = parser.parse_args()
    engine = "PostgreSQL" if args.database and args.database.startswith("postgres") else "SQLite"
    print(
        f"POST new leads, singly and {BATCH} a call: {engine}, gunicorn -w {args.workers}, "
        f"{args.clients} clients, {args.duration:g} s each\n"
        f"commit {source_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    with tempfile.TemporaryDirectory(prefix="leadsite-bench-") as tmp:
        try:
            results = bench(args, Path(tmp), uuid.uuid4().hex[:8])
        except BenchError as error:
            print(error, file=sys.stderr)
            return 1
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
