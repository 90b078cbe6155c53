"""What a NOTIFY costs the writers: small write transactions a second with and without one.

PostgreSQL lets one notifying transaction commit at a time (a global lock, from queueing the
notification to the end of the commit, its WAL flush included), so commits that NOTIFY cannot
share a flush the way plain commits do. Each client thread runs transactions of one INSERT (an
outbox row's size), in turn without a NOTIFY, with `SELECT pg_notify('leadsite_outbox', '')` in
the transaction, and with it in a transaction of its own just after the commit, in rounds of
`--seconds`; a LISTEN connection drains the notifications meanwhile, as a worker would.
PostgreSQL only; a database `leadsite_bench_notify` is made and dropped.
"""

from __future__ import annotations

import _checkout  # noqa: F401  (first: leadsite from this checkout)

# isort: split
import argparse
import os
import statistics
import sys
import threading
import time

import psycopg
from _harness import source_version
from sqlalchemy.engine import make_url

from leadsite.outbox.wake import CHANNEL, NOTIFY_SQL

DATABASE = "leadsite_bench_notify"
PAYLOAD = "x" * 1000  # about a lead.created webhook's body


def conninfo(server: str, dbname: str) -> str:
    url = make_url(server)
    parts = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password or "",
        "dbname": dbname,
    }
    return " ".join(f"{key}={value}" for key, value in parts.items() if value != "")


MODES = {
    "none": "without NOTIFY        ",
    "inside": "NOTIFY in the writes' ",
    "after": "NOTIFY after commit   ",
}


def run_round(dsn: str, clients: int, seconds: float, mode: str) -> tuple[float, float]:
    """Transactions a second, and the median commit (ms), of `clients` threads."""
    counts = [0] * clients
    commits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = 0.0

    def client(index: int) -> None:
        nonlocal deadline
        with psycopg.connect(dsn) as connection:
            start.wait()
            own: list[float] = []
            while time.monotonic() < deadline:
                connection.execute("INSERT INTO probe (body) VALUES (%s)", (PAYLOAD,))
                if mode == "inside":
                    connection.execute(NOTIFY_SQL)
                began = time.perf_counter()
                connection.commit()
                if mode == "after":  # a transaction of its own, with nothing to flush
                    connection.execute(NOTIFY_SQL)
                    connection.commit()
                own.append(time.perf_counter() - began)
                counts[index] += 1
        with lock:
            commits.extend(own)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds, statistics.median(commits) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1")
    parser.add_argument("--clients", type=int, default=8, help="writing threads (8)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds a round (3)")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of rounds (3)")
    parser.add_argument(
        "--pg-name", default=DATABASE, help=f"the database made, dropped ({DATABASE})"
    )
    args, others = parser.parse_known_args()
    if others:
        print(f"ignoring options for other benchmarks: {' '.join(others)}")
    admin = conninfo(args.database, "postgres")
    name = args.pg_name
    dsn = conninfo(args.database, name)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    print(
        f"NOTIFY's cost to writers: PostgreSQL, {args.clients} clients, commit "
        f"{source_version()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    stop = threading.Event()
    try:
        with psycopg.connect(dsn, autocommit=True) as setup:
            setup.execute("CREATE TABLE probe (id bigserial PRIMARY KEY, body text)")
        listener = psycopg.connect(dsn, autocommit=True)
        listener.execute(f"LISTEN {CHANNEL}")

        def drain() -> None:
            while not stop.is_set():
                for _ in listener.notifies(timeout=0.2):
                    pass

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        results: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                results[mode].append(run_round(dsn, args.clients, args.seconds, mode))
        stop.set()
        drainer.join()
        listener.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    plain = statistics.median(rate for rate, _ in results["none"])
    for mode, rounds in results.items():
        rates = ", ".join(f"{rate:.0f}" for rate, _ in rounds)
        median = statistics.median(rate for rate, _ in rounds)
        commit = statistics.median(ms for _, ms in rounds)
        print(
            f"{MODES[mode]}: {rates} transactions/s, {100 * (median - plain) / plain:+.0f} % "
            f"(median commit {commit:.2f} ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
