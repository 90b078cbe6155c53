"""Benchmark the back-office leads list and CSV export with 1,000,000 bulk-seeded leads."""

from __future__ import annotations

import _checkout  # noqa: F401  (first: leadsite from this checkout)

# isort: split
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import _databases
from _export import make_app, sign_in
from _harness import BIN, ROOT, BenchError, source_version
from _seed import FUNNELS, Fixtures, count_leads, create_fixtures, load_fixtures, seed
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.exceptions import HTTPException

from leadsite.database import SQLITE_ANALYSIS_LIMIT
from leadsite.extensions import db
from leadsite.leads.search import LeadFilters, encode_cursor, search_leads
from leadsite.leads.sort import sort_named, sorted_leads
from leadsite.models import Lead

PG_DATABASE = "leadsite_bench_bo"
SQLITE_NAME = "backoffice"
PAGE_GOAL_MS = 50.0
EXPORT_GOAL_S = 60.0
EXPORT_RSS_GOAL_MB = 250.0
HTMX = {"HX-Request": "true"}
STAT1_EXISTS = "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"


@dataclass
class Page:
    name: str
    url: str
    headers: dict[str, str]
    goal: bool  # one of the four pages; the others are extra information
    expect_rows: bool = True


@dataclass
class PageResult:
    page: Page
    median_ms: float
    p90_ms: float
    max_ms: float
    rows: int
    load: float


def _row_count(body: str) -> int:
    """Lead rows in a page or fragment: a row shows the lead's created time."""
    return body.count("<time datetime=")


def pages_to_measure(app: Flask, fixtures: Fixtures) -> list[Page]:
    """The issue's four pages, and a few others, with queries taken from the seeded data."""
    ws = fixtures.workspace_id
    with app.app_context():
        total = count_leads(ws)
        middle = db.session.execute(
            db.select(Lead.email, Lead.first_name, Lead.phone, Lead.created_at, Lead.id)
            .where(Lead.workspace_id == ws, Lead.email.is_not(None), Lead.phone.is_not(None))
            .order_by(Lead.created_at, Lead.id)
            .offset(total // 2)
            .limit(1)
        ).one()
        first_page = search_leads(ws, LeadFilters())
        by_name = sorted_leads(ws, LeadFilters(), sort_named("name"))
        deep_cursor = encode_cursor(Lead(created_at=middle.created_at, id=middle.id))
    email_prefix = middle.email[:12]  # someone typing the start of an address
    name_prefix = middle.first_name[:3].lower()
    phone_prefix = middle.phone[:7]
    small_funnel = fixtures.funnel_ids[[name for name, *_ in FUNNELS].index("Enterprise demo")]
    origin = fixtures.origin_ids[fixtures.funnel_ids[1]][0]

    def leads(**args: str) -> str:
        return "/p/leads" + ("?" + urlencode(args) if args else "")

    rare_tag = leads(tag="reactivated", status="lost")
    return [
        Page("first screen (full page)", leads(), {}, goal=True),
        Page("next page (Load more)", leads(after=first_page.next_cursor or ""), HTMX, goal=True),
        Page(f"search email prefix {email_prefix!r}", leads(q=email_prefix), HTMX, goal=True),
        Page(
            "filter funnel 'Enterprise demo' + status 'qualified'",
            leads(funnel=small_funnel, status="qualified"),
            HTMX,
            goal=True,
        ),
        Page("deep page (middle of the list)", leads(after=deep_cursor), HTMX, goal=False),
        Page(f"search name prefix {name_prefix!r}", leads(q=name_prefix), HTMX, goal=False),
        Page("search first keystroke 'j'", leads(q="j"), HTMX, goal=False),
        Page(f"search phone prefix {phone_prefix!r}", leads(q=phone_prefix), HTMX, goal=False),
        Page("search, no match 'zzzq'", leads(q="zzzq"), HTMX, goal=False, expect_rows=False),
        Page("filter origin", leads(origin=origin), HTMX, goal=False),
        Page("filter status 'customer'", leads(status="customer"), HTMX, goal=False),
        Page("filter tag 'vip'", leads(tag="vip"), HTMX, goal=False),
        Page("filter tag 'reactivated' + status 'lost'", rare_tag, HTMX, goal=False),
        Page("sort name A to Z", leads(sort="name"), HTMX, goal=False),
        Page(
            "sort name, next page",
            leads(sort="name", after=by_name.next_cursor or ""),
            HTMX,
            goal=False,
        ),
        Page("sort email Z to A", leads(sort="-email"), HTMX, goal=False),
        Page("sort status A to Z", leads(sort="status"), HTMX, goal=False),
        Page("sort status + search 'j'", leads(sort="status", q="j"), HTMX, goal=False),
        Page("board (full page)", "/p/leads/board", {}, goal=False, expect_rows=False),
    ]


def measure_page(client: FlaskClient, page: Page, runs: int, warmup: int) -> PageResult:
    load = os.getloadavg()[0]
    timings = []
    body = ""
    for attempt in range(warmup + runs):
        started = time.perf_counter()
        answer = client.get(page.url, headers=page.headers)
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise BenchError(f"{page.url} answered {answer.status_code}")
        if attempt >= warmup:
            timings.append(elapsed)
        body = answer.get_data(as_text=True)
    rows = _row_count(body)
    if page.expect_rows and rows == 0:
        raise BenchError(f"{page.name}: no rows at {page.url}")
    timings.sort()
    return PageResult(
        page=page,
        median_ms=statistics.median(timings),
        p90_ms=timings[int(len(timings) * 0.9) - 1 if len(timings) > 1 else 0],
        max_ms=timings[-1],
        rows=rows,
        load=load,
    )


def explain(app: Flask, client: FlaskClient, pages: list[Page]) -> None:
    """Print the plan of the leads query each page runs: EXPLAIN QUERY PLAN on SQLite, EXPLAIN
    (ANALYZE, BUFFERS) on PostgreSQL, with the statement and parameters the request sent."""
    captured: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM leads" in statement and "LIMIT" in statement:
            captured.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for page in pages:
            captured.clear()
            client.get(page.url, headers=page.headers)
            statement, parameters = captured[-1]
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                if engine.dialect.name == "sqlite":
                    cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                    plan = [row[3] for row in cursor.fetchall()]
                else:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = [row[0] for row in cursor.fetchall()]
                    raw.rollback()
            finally:
                raw.close()
            print(f"\n== {page.name}: {page.url}")
            print("\n".join("   " + line for line in plan))
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def run_export(url: str, mode: str) -> dict[str, float]:
    """One export in a child process; its own VmHWM is the peak RSS."""
    load = os.getloadavg()[0]
    done = subprocess.run(
        [str(BIN / "python"), str(ROOT / "bench" / "_export.py"), url, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("EXPORT "):
            return {**json.loads(line.removeprefix("EXPORT ")), "load": load}
    raise BenchError(f"export ({mode}) failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")


def export_mode(app: Flask) -> str:
    """`endpoint` once /p/leads/export exists, else `query` (what the service would run)."""
    try:
        app.url_map.bind("localhost").match("/p/leads/export", method="GET")
    except HTTPException:
        return "query"
    return "endpoint"


def prepare(args: argparse.Namespace, url: str) -> Fixtures:
    """Seed a fresh database, or check that --reuse finds one seeded with --leads leads."""
    if args.reuse:
        app = make_app(url)
        with app.app_context():
            fixtures = load_fixtures()
            found = count_leads(fixtures.workspace_id) if fixtures else 0
        if found != args.leads:
            raise BenchError(f"--reuse: {url} holds {found} leads, not {args.leads}")
        print(f"reusing {url}: {found:,} leads")
        return fixtures
    started = time.perf_counter()
    _databases.recreate(url)
    app = make_app(url)
    with app.app_context():
        fixtures = create_fixtures()
        print(f"seeding {args.leads:,} leads into {url}", flush=True)
        timings = seed(fixtures, args.leads)
        db.engine.dispose()  # the bulk loader's connection settings go with it
    total = time.perf_counter() - started
    phases = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    print(f"seeded in {total:.0f} s ({phases}); {_databases.size_mb(url):.0f} MB on disk")
    return fixtures


def set_statistics(app: Flask, stats: str) -> str:
    """Apply --stats; describe the statistics the planner will have."""
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        if stats in ("drop", "optimize") and sqlite and db.session.scalar(text(STAT1_EXISTS)):
            db.session.execute(text("DELETE FROM sqlite_stat1"))
        if stats == "optimize" and sqlite:
            # What leadsite.database's PRAGMA optimize leaves: an ANALYZE of the tables the list
            # reads, each index read no further than the analysis limit.
            db.session.execute(text(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}"))
        if stats == "analyze" or (stats == "optimize" and sqlite):
            db.session.execute(text("ANALYZE leads"))
            db.session.execute(text("ANALYZE journeys"))
        db.session.commit()
        if sqlite:
            has_stats = db.session.scalar(text(STAT1_EXISTS)) and db.session.scalar(
                text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'leads'")
            )
            described = "sqlite_stat1 present" if has_stats else "no sqlite_stat1"
            if has_stats and stats == "optimize":
                described += f" (ANALYZE with analysis_limit={SQLITE_ANALYSIS_LIMIT})"
        else:
            described = "ANALYZEd (autovacuum keeps PostgreSQL's statistics)"
        db.session.remove()
        db.engine.dispose()  # SQLite connections read sqlite_stat1 when they open
    return described


def report(results: list[PageResult], exports: list[dict[str, float]]) -> None:
    print(f"\n{'page':58}{'median ms':>10}{'p90 ms':>9}{'max ms':>9}{'rows':>6}{'load':>6}  goal")
    for r in results:
        verdict = ("met" if r.median_ms <= PAGE_GOAL_MS else "NOT met") if r.page.goal else "-"
        print(
            f"{r.page.name[:58]:58}{r.median_ms:10.1f}{r.p90_ms:9.1f}{r.max_ms:9.1f}"
            f"{r.rows:6d}{r.load:6.2f}  {verdict}"
        )
    for e in exports:
        rss_mb = e["peak_rss_kb"] / 1024
        verdict = (
            "met" if e["seconds"] <= EXPORT_GOAL_S and rss_mb <= EXPORT_RSS_GOAL_MB else "NOT met"
        )
        print(
            f"CSV export ({e['mode']}): {e['lines'] - 1:,} rows, {e['bytes'] / 1e6:.0f} MB in "
            f"{e['seconds']:.1f} s, peak RSS {rss_mb:.0f} MB (at start "
            f"{e['rss_before_kb'] / 1024:.0f} MB), load {e['load']:.2f}: goal "
            f"<= {EXPORT_GOAL_S:.0f} s and <= {EXPORT_RSS_GOAL_MB:.0f} MB {verdict}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", help="postgresql://user@host to use PostgreSQL, not SQLite")
    parser.add_argument("--leads", type=int, default=1_000_000, help="leads to seed (1,000,000)")
    parser.add_argument("--reuse", action="store_true", help="keep the already seeded database")
    parser.add_argument("--runs", type=int, default=30, help="timed requests per page (30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per page (5)")
    parser.add_argument("--exports", type=int, default=1, help="CSV exports to run (1)")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument(
        "--pg-name", default=PG_DATABASE, help=f"the PostgreSQL database ({PG_DATABASE})"
    )
    parser.add_argument("--explain", action="store_true", help="print each page's query plan")
    parser.add_argument(
        "--stats",
        choices=["keep", "analyze", "drop", "optimize"],
        default="keep",
        help="planner statistics before measuring: keep them as they are (default), ANALYZE "
        "leads and journeys, drop SQLite's sqlite_stat1 (a fresh install grown to this size), "
        "or on SQLite the sampled statistics leadsite.database's PRAGMA optimize leaves",
    )
    args, others = parser.parse_known_args()
    if others:  # `make bench BENCH_ARGS=...` passes every script the same options
        print(f"ignoring options for other benchmarks: {' '.join(others)}")

    name = args.pg_name if _databases.is_postgres(args.database) else SQLITE_NAME
    url = _databases.database_url(args.database, name)
    engine = "PostgreSQL" if _databases.is_postgres(args.database) else "SQLite"
    print(
        f"Back-office leads list: {engine}, {args.leads:,} leads, median of {args.runs} "
        f"requests per page after {args.warmup} (Flask test client, signed-in staff)\n"
        f"commit {source_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )
    try:
        fixtures = prepare(args, url)
        app = make_app(url)
        print(f"planner statistics: {set_statistics(app, args.stats)}")
        pages = pages_to_measure(app, fixtures)
        client = app.test_client()
        sign_in(client)
        if args.explain:
            explain(app, client, pages)
            return 0
        results = [measure_page(client, page, args.runs, args.warmup) for page in pages]
        with app.app_context():
            db.engine.dispose()
        mode = export_mode(app)
        exports = [run_export(url, mode) for _ in range(args.exports)]
    except BenchError as error:
        print(error, file=sys.stderr)
        return 1
    report(results, exports)
    if mode == "query":
        print(
            "(/p/leads/export does not exist at this commit: the export ran the keyset-batched "
            "search_leads query + csv.writer the service would run, 1000 rows a batch)"
        )
    if args.drop:
        _databases.drop(url)
    else:
        print(f"{url} is kept for --reuse (--drop removes it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
