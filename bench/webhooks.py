"""Benchmark webhook delivery: commit-to-arrival latency and the drain rate of queued messages.

On PostgreSQL the latency is measured twice in one run, side by side: with the worker woken by
LISTEN/NOTIFY (its default) and with it only polling (WORKER_LISTEN=0); SQLite workers poll."""

from __future__ import annotations

import _checkout  # noqa: F401  (first: leadsite from this checkout)

# isort: split
import argparse
import itertools
import os
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _databases
from _harness import BIN, ROOT, BenchError, source_version
from _receiver import Receiver, receiver
from flask import Flask
from sqlalchemy import func, insert, select

from leadsite import accounts, create_app, funnels
from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import (
    Channel,
    Funnel,
    FunnelStatus,
    MessageStatus,
    Origin,
    OriginKind,
    OutboxMessage,
    WebhookEndpoint,
    utcnow,
)
from leadsite.registration import LeadInput, RegistrationContext, register

PG_DATABASE = "leadsite_bench_wh"
_sequence = itertools.count()  # numbers the latency leads: every registration is a new lead
LATENCY_GOAL_P95_S = 1.0
LISTEN_GOAL_P95_S = 0.050  # a worker woken by NOTIFY (PostgreSQL)
DRAIN_GOAL_PER_S = 200.0  # on SQLite with one worker; PostgreSQL with two should do more


@dataclass
class Latency:
    mode: str  # "listen" (woken by NOTIFY) or "poll"
    count: int
    p50_s: float
    p95_s: float
    p99_s: float
    max_s: float
    load: float


@dataclass
class Drain:
    count: int
    workers: int
    seconds: float  # first arrival to the last message marked delivered in the database
    per_s: float
    receiver_per_s: float  # first to last arrival at the receiver
    duplicates: int
    load: float
    worker_cpu_ms: float  # the workers' CPU time (all threads) over the drain, per message
    receiver_cpu_ms: float  # this process's (the receiver's, mostly), per message


def make_app(url: str) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LEADSITE_INLINE_WORKER": False,
            "WEBHOOK_ALLOW_PRIVATE": True,
        }
    )


@dataclass
class DeadReceiver:
    """A receiver that accepts connections and never answers (a customer's hung server)."""

    url: str
    connections: list[socket.socket]


@contextmanager
def dead_receiver() -> Iterator[DeadReceiver]:
    server = socket.create_server(("127.0.0.1", 0), backlog=64)
    dead = DeadReceiver(f"http://127.0.0.1:{server.getsockname()[1]}/hook", [])

    def accept() -> None:
        try:
            while True:
                dead.connections.append(server.accept()[0])  # held open, never read
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield dead
    finally:
        server.close()
        for connection in dead.connections:
            connection.close()


def add_dead_endpoint(workspace_id: str, url: str) -> None:
    """A second endpoint for lead.created, at a receiver that never answers: every lead's
    webhook to it waits for the send timeout."""
    db.session.add(WebhookEndpoint(workspace_id=workspace_id, url=url, events=["lead.created"]))
    db.session.commit()


def create_fixtures(hook_url: str) -> tuple[str, str, str]:
    """A workspace with an active funnel, an API origin and an endpoint for lead.created;
    returns (workspace id, origin id, endpoint id). The funnel has no activities, so the worker
    has only webhooks to deliver."""
    workspace, _ = accounts.get_or_create_workspace("Webhook bench", "webhook-bench")
    funnel = Funnel(workspace_id=workspace.id, name="Sign-ups", status=FunnelStatus.ACTIVE)
    db.session.add(funnel)
    db.session.flush()
    funnels.add_stage(funnel, "Welcome")
    origin = funnels.add_origin(funnel, OriginKind.API, "Bench API")
    endpoint = WebhookEndpoint(workspace_id=workspace.id, url=hook_url, events=["lead.created"])
    db.session.add(endpoint)
    db.session.commit()
    return workspace.id, origin.id, endpoint.id


@contextmanager
def workers(
    url: str, count: int, logdir: Path, profile: Path | None = None, listen: bool = True
) -> Iterator[list[subprocess.Popen]]:
    """`count` processes of `flask --app app leadsite worker`; SIGTERM and wait on exit.
    With `listen` off they only poll, even on PostgreSQL."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WEBHOOK_ALLOW_PRIVATE": "1",
        "LEADSITE_INLINE_WORKER": "0",
        "SECRET_KEY": "bench-webhooks",
        "WORKER_LISTEN": "1" if listen else "0",
    }
    processes = []
    for index in range(count):
        command = [str(BIN / "flask"), "--app", "app", "leadsite", "worker"]
        if profile is not None:
            output = f"{profile}.{index}"
            command = [str(BIN / "python"), "-m", "cProfile", "-o", output, "-m", "flask"]
            command += ["--app", "app", "leadsite", "worker"]
        log = (logdir / f"worker-{index}.log").open("w")
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
    try:
        yield processes
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure_latency(
    app: Flask, origin_id: str, hooks: Receiver, count: int, rate: float, run_id: str, mode: str
) -> Latency:
    """Register `count` leads in this process, `rate` a second on average (Poisson arrivals),
    each committed by register(); time from its commit to its webhook at the receiver."""
    rng = random.Random(run_id)
    load = os.getloadavg()[0]
    committed: dict[str, float] = {}
    with app.app_context():
        origin = db.session.get(Origin, origin_id)
        for _ in range(count):
            index = next(_sequence)  # identifiers unique across calls: every lead is new
            lead_input = LeadInput(
                email=f"latency-{run_id}-{index}@example.com",
                first_name="Bench",
                last_name=f"Lead {index}",
                phone=f"+3161{index:07d}",
            )
            registration = register(origin, lead_input, RegistrationContext(ip="127.0.0.1"))
            committed[registration.lead.id] = time.time()  # register() has committed
            time.sleep(rng.expovariate(rate))
        db.session.remove()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        arrived = {a.lead_id: a.at for a in reversed(hooks.snapshot())}  # first arrival wins
        if all(lead_id in arrived for lead_id in committed):
            break
        time.sleep(0.05)
    else:
        raise BenchError(f"{len(committed) - len(arrived)} webhooks did not arrive within 60 s")
    latencies = [arrived[lead_id] - at for lead_id, at in committed.items()]
    return Latency(
        mode=mode,
        count=len(latencies),
        p50_s=statistics.median(latencies),
        p95_s=_percentile(latencies, 0.95),
        p99_s=_percentile(latencies, 0.99),
        max_s=max(latencies),
        load=load,
    )


def _payload(index: int) -> dict[str, Any]:
    """A lead.created body of the usual size (about 1 KB)."""
    stamp = utcnow().isoformat()
    return {
        "type": "lead.created",
        "timestamp": stamp,
        "data": {
            "id": f"lead_drain{index:020d}",
            "email": f"drain-{index}@example.com",
            "phone": f"+3162{index:07d}",
            "first_name": "Drain",
            "last_name": f"Lead {index}",
            "address": None,
            "unique_id": None,
            "status": "new",
            "tags": ["newsletter"],
            "custom_fields": {"company": "Example & Co", "team_size": 12},
            "source": "website",
            "source_url": "https://www.example.com/signup?plan=pro",
            "referrer": "https://www.google.com/",
            "utm": {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "brand"},
            "origin_id": "org_01m81t3z5g3zswv0ph8e350733",
            "counter": 1,
            "opt_in": True,
            "opt_in_at": stamp,
            "created_at": stamp,
            "updated_at": stamp,
            "journey": {"id": "jrn_01m81t3z5g3zswv0ph8e350734", "status": "active"},
            "registration": {"origin_kind": "api", "ip": "203.0.113.7", "user_agent": "curl/8"},
        },
    }


def queue_messages(app: Flask, workspace_id: str, endpoint_id: str, url: str, count: int) -> None:
    """Insert `count` pending webhook messages for one endpoint in one executemany."""
    now = utcnow()
    rows = [
        {
            "id": new_id("msg"),
            "workspace_id": workspace_id,
            "endpoint_id": endpoint_id,
            "channel": Channel.WEBHOOK,
            "target": url,
            "payload": _payload(index),
            "status": MessageStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for index in range(count)
    ]
    with app.app_context():
        db.session.execute(insert(OutboxMessage), rows)
        db.session.commit()
        db.session.remove()


def delivered(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == MessageStatus.DELIVERED)
        )
        db.session.remove()
        return int(count or 0)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time of the processes so far, all their threads (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def measure_drain(app: Flask, hooks: Receiver, count: int, pids: list[int]) -> Drain:
    """Wait until the `count` queued messages are delivered; the clock starts at the first
    arrival, so the workers' start-up is not counted."""
    load = os.getloadavg()[0]
    if not hooks.wait_for(1, timeout=60):
        raise BenchError("no delivery within 60 s of starting the workers")
    cpu_at_start, own_cpu_at_start = cpu_seconds(pids), time.process_time()
    if not hooks.wait_for(count, timeout=max(600, count / 10)):
        raise BenchError(f"only {hooks.count()} of {count} deliveries arrived")
    while delivered(app) < count:
        time.sleep(0.05)
    done_at = time.time()
    worker_cpu, own_cpu = cpu_seconds(pids) - cpu_at_start, time.process_time() - own_cpu_at_start
    arrivals = sorted(a.at for a in hooks.snapshot())
    ids = [a.webhook_id for a in hooks.snapshot()]
    seconds = done_at - arrivals[0]
    return Drain(
        count=count,
        workers=len(pids),
        seconds=seconds,
        per_s=count / seconds,
        receiver_per_s=(len(arrivals) - 1) / max(arrivals[-1] - arrivals[0], 1e-9),
        duplicates=len(ids) - len(set(ids)),
        load=load,
        worker_cpu_ms=worker_cpu * 1000 / count,
        receiver_cpu_ms=own_cpu * 1000 / count,
    )


def print_profile(profile: Path, workers: int) -> None:
    for index in range(workers):
        path = Path(f"{profile}.{index}")
        if not path.exists():
            continue
        print(f"\ncProfile of worker {index}, its main thread (top 25 by cumulative time):")
        stats = pstats.Stats(str(path))
        stats.sort_stats("cumulative").print_stats(25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="postgresql://user@host to use PostgreSQL, not SQLite")
    parser.add_argument("--workers", type=int, default=1, help="worker processes to drain (1)")
    parser.add_argument("--registrations", type=int, default=200, help="leads timed (200)")
    parser.add_argument("--rate", type=float, default=5.0, help="registrations a second (5)")
    parser.add_argument("--messages", type=int, default=10_000, help="messages drained (10,000)")
    parser.add_argument("--only", choices=["latency", "drain"], help="run one of the two")
    parser.add_argument(
        "--pg-name", default=PG_DATABASE, help=f"PostgreSQL database made, dropped ({PG_DATABASE})"
    )
    parser.add_argument("--profile", type=Path, help="cProfile the drain's workers to PATH.<n>")
    parser.add_argument(
        "--receiver-delay",
        type=float,
        default=0.0,
        help="milliseconds the receiver waits before answering each webhook (0)",
    )
    parser.add_argument(
        "--dead-endpoint",
        action="store_true",
        help="latency with a second endpoint on every lead that never answers (timed: the first)",
    )
    args, others = parser.parse_known_args()
    if others:  # `make bench BENCH_ARGS=...` passes every script the same options
        print(f"ignoring options for other benchmarks: {' '.join(others)}")

    postgres = _databases.is_postgres(args.database)
    print(
        f"Webhooks: {'PostgreSQL' if postgres else 'SQLite'}, worker processes: 1 for latency, "
        f"{args.workers} for the drain\ncommit {source_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    run_id = uuid.uuid4().hex[:8]
    latencies: list[Latency] = []
    drain = None
    with tempfile.TemporaryDirectory(prefix="leadsite-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        url = (
            _databases.database_url(args.database, args.pg_name)
            if postgres
            else f"sqlite:///{workdir / 'webhooks.db'}"
        )
        try:
            _databases.recreate(url)
            if postgres:
                stack.callback(_databases.drop, url)
            hooks = stack.enter_context(receiver(args.receiver_delay / 1000))
            app = make_app(url)
            with app.app_context():
                workspace_id, origin_id, endpoint_id = create_fixtures(hooks.url)
                if args.dead_endpoint:
                    dead = stack.enter_context(dead_receiver())
                    add_dead_endpoint(workspace_id, dead.url)
            modes = ["listen", "poll"] if postgres else ["poll"]
            for mode in modes if args.only != "drain" else []:
                with workers(url, 1, workdir, listen=mode == "listen"):
                    warm_up = f"{run_id}w{mode}"
                    measure_latency(app, origin_id, hooks, 3, args.rate, warm_up, mode)
                    hooks.clear()
                    latencies.append(
                        measure_latency(
                            app, origin_id, hooks, args.registrations, args.rate, run_id, mode
                        )
                    )
                    hooks.clear()
            if args.only != "latency":
                hooks.clear()
                queue_messages(app, workspace_id, endpoint_id, hooks.url, args.messages)
                with workers(url, args.workers, workdir, args.profile) as processes:
                    pids = [process.pid for process in processes]
                    drain = measure_drain(app, hooks, args.messages, pids)
        except BenchError as error:
            print(error, file=sys.stderr)
            return 1
    if args.dead_endpoint:
        print(
            f"with a second endpoint that never answers on every lead: it was sent "
            f"{len(dead.connections)} connections over the run"
        )
    for latency in latencies:
        goal = LISTEN_GOAL_P95_S if latency.mode == "listen" else LATENCY_GOAL_P95_S
        verdict = "met" if latency.p95_s <= goal else "NOT met"
        woken = "woken by NOTIFY" if latency.mode == "listen" else "polling"
        print(
            f"commit -> arrival, {latency.count} registrations at {args.rate:g}/s, 1 worker "
            f"{woken:>15}: p50 {latency.p50_s * 1000:5.1f} ms, p95 {latency.p95_s * 1000:5.1f}"
            f" ms, p99 {latency.p99_s * 1000:5.1f} ms, max {latency.max_s * 1000:5.1f} ms "
            f"(load {latency.load:.2f}); goal p95 <= {goal * 1000:g} ms {verdict}"
        )
    if drain:
        verdict = "met" if drain.per_s >= DRAIN_GOAL_PER_S else "NOT met"
        print(
            f"drain of {drain.count:,} queued deliveries, {drain.workers} worker(s), receiver "
            f"answering in {args.receiver_delay:g} ms: "
            f"{drain.seconds:.1f} s, {drain.per_s:.0f}/s (receiver saw {drain.receiver_per_s:.0f}/s"
            f", {drain.duplicates} duplicates; CPU a message: workers {drain.worker_cpu_ms:.2f} ms,"
            f" receiver {drain.receiver_cpu_ms:.2f} ms; load {drain.load:.2f})"
            # The goal is for the receiver answering at once.
            + ("" if args.receiver_delay else f"; goal >= {DRAIN_GOAL_PER_S:g}/s {verdict}")
        )
    if args.profile and drain:
        print_profile(args.profile, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
