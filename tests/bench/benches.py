"""Each bench/*.py at its smallest: the options that make it so, how it is told its database
on each kind, and the figures its output must show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

NUMBER = r"[\d,.]+"


@dataclass(frozen=True)
class Where:
    """A run's databases: SQLite files under `tmp`, or PostgreSQL databases named from `prefix`
    on the server of `server` (the suite's test database's URL, never that database itself)."""

    tmp: Path
    server: str | None = None  # a PostgreSQL URL when the suite runs on PostgreSQL
    prefix: str = ""

    @property
    def dialect(self) -> str:
        return "postgresql" if self.server else "sqlite"

    def url(self) -> str:
        """The URL of PostgreSQL database `prefix`."""
        assert self.server
        return make_url(self.server).set(database=self.prefix).render_as_string(False)


def server(where: Where) -> list[str]:
    """`--database SERVER` on PostgreSQL (the bench names its own databases, from
    BENCH_PG_DATABASE); nothing, a SQLite file of its own, otherwise."""
    return ["--database", where.server] if where.server else []


def server_and_name(where: Where) -> list[str]:
    """`--database SERVER --pg-name NAME` on PostgreSQL."""
    return [*server(where), "--pg-name", where.prefix] if where.server else []


def made(where: Where) -> list[str]:
    """`--database URL` of an empty database made for it, on PostgreSQL."""
    return ["--database", where.url()] if where.server else []


def one_of_both(where: Where) -> list[str]:
    """The import benches': one database, and on PostgreSQL its server and name."""
    if where.server:
        return ["--only", "postgresql", "--postgres", where.server, "--pg-name", where.prefix]
    return ["--only", "sqlite"]


@dataclass(frozen=True)
class Bench:
    database: Callable[[Where], list[str]]
    small: tuple[str, ...]  # the options that make it small
    # Each a regular expression (re.MULTILINE) its stdout must match; {dialect} is filled in.
    prints: tuple[str, ...]
    needs: tuple[str, ...] = ()  # tools on PATH besides the venv's
    # The suite that runs it: "sqlite" or "postgresql" (each suite's share of the benches'
    # minutes: tests/bench/test_benches.py); BENCH_SMOKE=all runs it in either.
    home: str = "sqlite"
    postgresql_only: bool = False
    made_database: bool = False  # on PostgreSQL, `made` makes its database empty first
    timeout: float = 240


# A second of wrk on one connection, against one gunicorn worker, no warm-up.
WRK_SMALL = ("--duration", "1", "--warmup", "0", "--connections", "1", "--threads", "1")
WRK_SMALL += ("--workers", "1")

BENCHES: dict[str, Bench] = {
    "analytics": Bench(
        server_and_name,
        ("--leads", "50", "--views", "100", "--days", "30", "--runs", "2"),
        (rf"last 30 days \(\d+ journeys\): page median {NUMBER} ms",),
        home="postgresql",
    ),
    "backoffice": Bench(
        server_and_name,
        # 1,000 leads: its seed's first to tag a lead 'reactivated' with status 'lost'.
        ("--leads", "1000", "--runs", "1", "--warmup", "0", "--drop"),
        (rf"search, no match 'zzzq'\s+{NUMBER}", r"CSV export \(\w+\): [\d,]+ rows"),
    ),
    "batch": Bench(
        server,
        ("--duration", "1", "--clients", "1", "--workers", "1"),
        (rf"^single\s+{NUMBER}\s+\d+", rf"batch/single leads/s: {NUMBER}x"),
        home="postgresql",
    ),
    "concurrency": Bench(
        server,
        ("-n", "3", "--trials", "1", "--workers", "1"),
        (r"trial 1: new email .* ok$", r"one Idempotency-Key .* ok$"),
    ),
    "counting_inprocess": Bench(
        made,
        ("--requests", "5", "--rounds", "1"),
        (rf"^on\s+{NUMBER}\s+{NUMBER}$", r"views counted: 55 "),
        made_database=True,
        home="postgresql",
    ),
    "import": Bench(
        one_of_both,
        ("--rows", "20", "--chunk-rows", "10"),
        (r"^{dialect}\s+new leads\s+20\s+20\s+0\s+0\s", r"^{dialect}\s+updates\s+20\s+0\s+20\s"),
    ),
    "import_floor": Bench(
        one_of_both,
        ("--leads", "10", "--chunk", "5", "--rounds", "1"),
        (rf"^{{dialect}}\s+app(\s+{NUMBER}){{5}}$", rf"^{{dialect}}\s+driver(\s+{NUMBER}){{5}}$"),
        home="postgresql",
    ),
    "import_floor_split": Bench(
        one_of_both,
        ("--leads", "10", "--chunk", "5", "--rounds", "1"),
        (rf"^as stored\s+{NUMBER}$", rf"^no FK triggers\s+{NUMBER}$", rf"^neither\s+{NUMBER}$"),
        home="postgresql",
        postgresql_only=True,
    ),
    "import_parallel": Bench(
        one_of_both,
        ("--leads", "40", "--chunk", "10", "--seed", "20", "--rounds", "1", "--processes", "1,2"),
        # Each run's row, its database checked ("ok": every lead and journey once), and the
        # medians' lines.
        (
            r"^{dialect}\s+2 processes\s.*\sok\s",
            r"^{dialect}\s+2 threads\s.*\sok\s",
            rf"^  2 processes\s+{NUMBER} leads/s",
        ),
    ),
    "import_kill": Bench(
        one_of_both,
        # Seed 15 waits 12 ms after the target (150-159 rows): the kill lands mid-file (rows
        # 320 and 350 of 600 at load 7), not after the last chunk, so a worker resumes the job.
        ("--rows", "600", "--chunk-rows", "10", "--kills", "1", "--lease", "1", "--seed", "15"),
        (r"^{dialect}: RIGHT in \d+ s$",),
        home="postgresql",
    ),
    "ingest_log": Bench(
        server,
        ("--blocks", "1", "--block", "2"),
        (rf"with the log\s+median wall\s+{NUMBER} ms",),
    ),
    "log_hooks": Bench(
        server,
        ("--blocks", "1", "--block", "2"),
        (rf"^\(whole request\)\s+{NUMBER}", r"^  statements\s+"),
    ),
    "notify_cost": Bench(
        server_and_name,
        ("--clients", "1", "--seconds", "0.2", "--rounds", "1"),
        (
            r"^without NOTIFY\s*: [\d, ]+ transactions/s",
            r"^NOTIFY after commit\s*: .* transactions/s",
        ),
        home="postgresql",
        postgresql_only=True,
    ),
    "public_form": Bench(
        server,
        WRK_SMALL,
        (
            r"hosted page total \d+ bytes",
            rf"POST /r/<ref> \(hosted form\)\s+{NUMBER}",
            rf"ratio form/bare requests/s: {NUMBER}",
        ),
        needs=("wrk",),
    ),
    "register": Bench(
        server,
        WRK_SMALL,
        (rf"^full pipeline\s+{NUMBER}", rf"ratio full/bare requests/s: {NUMBER}"),
        needs=("wrk",),
        home="postgresql",
    ),
    "register_inprocess": Bench(
        server,
        ("--requests", "10", "--warmup", "1"),
        (rf"^full pipeline\s+{NUMBER}", rf"ratio bare/full CPU per request: {NUMBER}"),
    ),
    "tasks_plan": Bench(
        made,
        ("--journeys", "100"),
        (r"^== first page \(mine and unassigned\)$", r"Execution Time"),
        home="postgresql",
        postgresql_only=True,
        made_database=True,
    ),
    "webhooks": Bench(
        server_and_name,
        ("--registrations", "2", "--rate", "20", "--messages", "10"),
        (
            rf"commit -> arrival, 2 registrations .* p95\s+{NUMBER} ms",
            r"drain of 10 queued deliveries",
        ),
        home="postgresql",
    ),
}

# Scripts not run, and why.
NOT_RUN: dict[str, str] = {
    # Its smallest run (one fault, `--faults redis-stop --duration 2 --at 0.5 --hold 0.5
    # --threads 1 --drain 5 --give-up 10`) took 34 s at load 9, most of it deploy/cluster/up.sh
    # and down.sh; tests/cluster runs its faults (bench/_cluster_faults.py) on that cluster.
    "cluster_faults": "builds the namespace cluster (root, ip netns): 34 s at its smallest",
    # It reads a database bench/import.py filled (--pg-name NAME) and --fill changes; on a small
    # one every plan is a Seq Scan and says nothing. tests/test_whole_table_reads.py holds the
    # plans it led to.
    "scans": "needs a PostgreSQL database of imported leads (bench/import.py --pg-name NAME)",
}
