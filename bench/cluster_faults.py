"""Faults on the namespace cluster: registrations through HAProxy while, one at a time, app1 is
killed, a worker is killed mid-delivery, PostgreSQL restarts, Redis stops and a worker's link goes
down; prints per fault what was answered, how fast it recovered and what was lost. Root only.

    .venv/bin/python bench/cluster_faults.py                    # every fault, 15 s of load each
    .venv/bin/python bench/cluster_faults.py --faults app-kill,worker-kill --duration 8
    .venv/bin/python bench/cluster_faults.py --sizing           # registrations/s: 1 app vs 2

The load is this script's own client (threads, one keep-alive connection each, a new lead and
`Idempotency-Key` per registration, retried with the same key on no answer, 5xx, 429 or 409
IDEMPOTENCY_IN_PROGRESS): wrk and hey cannot retry the request whose answer was lost, nor say
which one it was, and that is what is being counted. `--sizing` uses wrk when it is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import _cluster
import _cluster_cpu
import _cluster_faults
import _harness
from _cluster import Cluster, WebhookReceiver
from _cluster_load import Load

# Recovery: the last failed answer ends this soon after the repair (the database accepting).
BACK_WITHIN_S = 5

COLUMNS = [
    "fault",
    "requests",
    "2xx",
    "5xx",
    "5xx by status",
    "5xx with Retry-After",
    "503 as promised",
    "no answer",
    "409 in progress",
    "registrations",
    "unanswered",
    "recover s",
    "back s",
    "slowest s",
    "longest registration s",
    "lost",
    "duplicated",
    "webhooks missing",
    "webhooks pending",
    "webhook repeats",
    "in flight at kill",
    "redelivered by other",
    "takeover s",
]


def table(rows: list[dict[str, object]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def run_faults(args: argparse.Namespace, cluster: Cluster) -> int:
    rows = []
    with WebhookReceiver(cluster.info["host_address"]) as receiver:
        cluster.add_webhook(receiver.url)
        faults = _cluster_faults.standard_faults(cluster, receiver, args.hold)
        for key in args.faults.split(","):
            cluster.wait_healthy()
            fault = faults[key]
            print(f"== {fault.name}: {args.duration:g} s of load, fault at {args.at:g} s")
            result = _cluster_faults.run_fault(
                cluster,
                receiver,
                fault,
                duration=args.duration,
                at=args.at,
                threads=args.threads,
                give_up=args.give_up,
                drain_timeout=args.drain,
            )
            row = result.row()
            rows.append(row)
            print(json.dumps(row))
            for note in result.notes:
                print(f"  {note}")
    print()
    print(f"load: {args.threads} clients; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(table(rows, COLUMNS))
    print(
        "goal: lost 0, duplicated 0, webhooks missing 0, no 500, every 503 with Retry-After in the"
        f" API envelope, back within {BACK_WITHIN_S:g} s of the repair: in every row"
    )
    bad = [str(r["fault"]) for r in rows if not meets_goal(r)]
    print("met" if not bad else f"NOT met: {', '.join(bad)}")
    return 0


def meets_goal(row: dict[str, object]) -> bool:
    statuses = {  # "502:1 503:12"
        status: int(n)
        for status, n in (pair.split(":") for pair in str(row["5xx by status"]).split())
    }
    return not (
        row["lost"]
        or row["duplicated"]
        or row["webhooks missing"]
        or statuses.get("500", 0)
        or statuses.get("503", 0) != row["503 as promised"]
        or (row["back s"] != "" and float(str(row["back s"])) > BACK_WITHIN_S)
    )


def wrk_rate(cluster: Cluster, seconds: int, connections: int, run: str) -> tuple[float, str, int]:
    """Registrations/s through the balancer from wrk with bench/register.lua, the latencies, and
    the registrations answered."""
    result = _harness.wrk(
        f"{cluster.info['lb_url']}/api/v1/leads?ref={cluster.info['api_ref']}",
        {"Authorization": f"Bearer {cluster.info['api_key']}", "Content-Type": "application/json"},
        run,
        seconds,
        connections,
        2,
    )
    if result.failed_fraction > 0.001:
        raise _harness.BenchError(
            f"invalid run: {result.non_2xx} non-2xx {result.non_2xx_by_status}, "
            f"{result.socket_errors} socket errors in {result.requests} requests"
        )
    latency = f"p50 {result.p50_ms:.0f} ms, p99 {result.p99_ms:.0f} ms"
    return result.requests_per_s, latency, result.requests


def client_rate(cluster: Cluster, seconds: float, threads: int) -> tuple[float, int]:
    load = Load(cluster, "sizing", threads, timeout=10, give_up=5)
    load.start()
    time.sleep(seconds)
    load.finish()
    answered = sum(1 for r in load.registrations if 200 <= r.status < 300)
    return answered / seconds, answered


def run_sizing(args: argparse.Namespace, cluster: Cluster) -> int:
    """Registrations/s through HAProxy with app2 stopped, then with both apps; and the CPU
    each node spent per registration (what a host of each kind needs, whatever shares the
    cores here)."""
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    tool = "wrk" if use_wrk else f"this script's client ({args.threads} threads)"
    rows = []
    cpu: dict[str, dict[str, float]] = {}
    for label, stop_app2 in (("1 app host (app1)", True), ("2 app hosts", False)):
        if stop_app2:
            cluster.ctl("stop", "app2")
            time.sleep(2)  # HAProxy marks it down
        else:
            cluster.ctl("start", "app2")
            cluster.wait_healthy()
            time.sleep(1)
        rates = []
        answered = 0
        before = _cluster_cpu.node_seconds()
        for _ in range(args.repeat):
            if use_wrk:
                rate, latency, requests = wrk_rate(
                    cluster, int(args.duration), args.connections, f"s{time.time_ns()}"
                )
                print(f"  {rate:.1f} registrations/s, {latency}", flush=True)
            else:
                rate, requests = client_rate(cluster, args.duration, args.threads)
            rates.append(rate)
            answered += requests
        cpu[label] = _cluster_cpu.per_request_ms(before, _cluster_cpu.node_seconds(), answered)
        print(f"{label}: {', '.join(f'{r:.1f}' for r in rates)} registrations/s", flush=True)
        rows.append({"setup": label, "registrations/s": f"{max(rates):.1f}", "runs": len(rates)})
    one, two = (float(r["registrations/s"]) for r in rows)
    print()
    print(f"tool: {tool}; {args.duration:g} s per run, best of {args.repeat}")
    print(f"load average: {os.getloadavg()[0]:.1f}")
    print(table(rows, ["setup", "registrations/s", "runs"]))
    print(f"two app hosts / one: {two / one:.2f}x")
    print()
    print("CPU per registration, by node (ms; /proc, every process in the node's namespace):")
    cpu_rows = [
        {"node": node, **{label: f"{by_node[node]:.2f}" for label, by_node in cpu.items()}}
        for node in _cluster_cpu.NODES
    ]
    total = {label: f"{sum(by_node.values()):.2f}" for label, by_node in cpu.items()}
    cpu_rows.append({"node": "all", **total})
    print(table(cpu_rows, ["node", *cpu]))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--faults",
        default="app-kill,worker-kill,db-restart,redis-stop,worker-link",
        help="comma-separated, run in this order",
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds of load per fault")
    parser.add_argument("--at", type=float, default=4, help="seconds into the load of the fault")
    parser.add_argument("--hold", type=float, default=3, help="seconds a stopped node stays down")
    parser.add_argument("--threads", type=int, default=6, help="client threads")
    parser.add_argument(
        "--give-up",
        type=float,
        default=150,
        help="seconds a registration is retried (a key whose holder died is freed after"
        " IDEMPOTENCY_HOLDER_GRACE on PostgreSQL, after IDEMPOTENCY_ABANDONED_AFTER otherwise)",
    )
    parser.add_argument("--drain", type=float, default=30, help="seconds to wait for webhooks")
    parser.add_argument("--sizing", action="store_true", help="measure 1 app host against 2")
    parser.add_argument("--repeat", type=int, default=2, help="sizing: runs per setup")
    parser.add_argument("--connections", type=int, default=16, help="sizing: wrk connections")
    parser.add_argument("--no-wrk", action="store_true", help="sizing: use this script's client")
    parser.add_argument("--reuse", action="store_true", help="use the cluster that is up")
    parser.add_argument("--keep", action="store_true", help="leave the cluster up afterwards")
    parser.add_argument("--save-logs", metavar="DIR", help="copy the nodes' logs here at the end")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if reason := _cluster.unavailable():
        print(f"cannot build the cluster here: {reason}", file=sys.stderr)
        return 1
    try:
        with _cluster.exclusive():
            return run(args)
    except _cluster.ClusterBusy as busy:
        print(f"cannot build the cluster now: {busy}", file=sys.stderr)
        return 1


def run(args: argparse.Namespace) -> int:
    if args.reuse:
        cluster = Cluster(json.loads((_cluster.STATE / "cluster.json").read_text()))
    elif _cluster.is_up():
        print("a cluster is already up: `make cluster-down` first, or --reuse", file=sys.stderr)
        return 1
    else:
        print("bringing the cluster up (deploy/cluster/up.sh)", flush=True)
        cluster = Cluster.up()
    try:
        return run_sizing(args, cluster) if args.sizing else run_faults(args, cluster)
    finally:
        if args.save_logs:
            shutil.copytree(_cluster.STATE / "logs", args.save_logs, dirs_exist_ok=True)
            print(f"logs copied to {args.save_logs}")
        if not args.keep:
            _cluster.down()


if __name__ == "__main__":
    sys.exit(main())
