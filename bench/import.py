"""CSV import through the real job: N new leads from a generated file into the demo funnel, then
the same N rows again (every one an update of a lead the first pass made).

Each database runs in a child process of its own (its peak RSS is its own): a fresh database
(`lt_import_bench` on PostgreSQL, instance/bench/import.db on SQLite), the demo workspace, the
file stored by `leads/imports/upload.py` (streamed, in chunks) and run by `leads/imports/job.py`
(`register_many` a chunk at a time), the way the worker runs it. Prints rows/s of the upload and
of the run, the CPU a row (this process's and PostgreSQL's backend's) and each pass's own peak
RSS, beside the goal (5,000 rows/s at 1,000,000 rows, RSS <= 300 MB); with `--progress N`, the
same every N chunks as it runs (does anything grow or slow with the rows?).

    .venv/bin/python bench/import.py --rows 20000
    .venv/bin/python bench/import.py --rows 20000 --postgres postgresql://postgres@127.0.0.1:5432/x
    .venv/bin/python -u bench/import.py --rows 1000000 --progress 100
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

from _databases import add_database_arguments, both_databases, recreate
from _harness import ROOT, bench_phone, lead_inputs, source_version

GOAL_ROWS_PER_S = 5_000
GOAL_RSS_MB = 300


def _write_csv(path: Path, rows: int, bad_every: int = 0, phones: float = 0.0) -> None:
    """`rows` people; with `bad_every`, every so many an email the import refuses; with
    `phones`, that share of them with a phone (`_harness.bench_phone`: a list's, national)."""
    every = round(1 / phones) if phones else 0
    with path.open("w", encoding="utf-8") as file:
        file.write("email,first_name,last_name,phone,company\n")
        for n in range(rows):
            at = "@" if not bad_every or n % bad_every else " at "
            phone = bench_phone(n) if every and n % every == 0 else ""
            file.write(f"bench{n}{at}example.com,First{n},Last{n},{phone},Company {n % 97}\n")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _reset_peak() -> bool:
    """Start the peak RSS again from what is resident now (Linux: `clear_refs`), so that a
    pass's peak is its own and not the demo's password hash (argon2's 64 MiB) made before it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _rss_mb() -> float:
    """The resident set now (the peak only ever grows: this one shows memory given back)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _server_cpu() -> tuple[int, float]:
    """On PostgreSQL (on this machine), this session's backend and its CPU seconds: the
    database's share of a chunk, which this process's CPU does not count. (0, 0) on SQLite."""
    from sqlalchemy import text

    from leadsite.extensions import db

    if db.engine.dialect.name != "postgresql":
        return 0, 0.0
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0, 0.0
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _progress_printer(name: str, every: int) -> Any:
    """An `on_chunk` for `run_import` printing, every `every` chunks, the rows done, the rate of
    those chunks (wall clock, this process's CPU, PostgreSQL's backend's CPU), RSS now and at
    peak, what the session holds and how many objects Python's collector tracks: does any of it
    grow with the rows?"""
    import gc

    from leadsite.extensions import db

    state = {"chunks": 0, "rows": 0, "wall": time.perf_counter(), "cpu": time.process_time()}
    state["server"] = _server_cpu()

    def on_chunk(job: Any) -> None:
        state["chunks"] += 1
        if state["chunks"] % every and job.status == "queued":
            return
        wall, cpu, server = time.perf_counter(), time.process_time(), _server_cpu()
        rows = max(job.rows_done - state["rows"], 1)
        same = server[0] and server[0] == state["server"][0]  # else another connection's
        database = f"  db {(server[1] - state['server'][1]) / rows * 1e3:.2f}" if same else ""
        print(
            f"  {name:<10} {job.rows_done:>9,} rows  {rows / (wall - state['wall']):>7,.0f}/s  "
            f"CPU ms/row: app {(cpu - state['cpu']) / rows * 1e3:.2f}{database}  "
            f"RSS {_rss_mb():>5.0f} MB "
            f"(peak {_peak_rss_mb():>4.0f})  session {len(db.session.identity_map):>5}  "
            f"gc objects {len(gc.get_objects()):>9,}",
            file=sys.stderr,
            flush=True,
        )
        state.update(rows=job.rows_done, wall=time.perf_counter(), cpu=time.process_time())
        state["server"] = _server_cpu()

    return on_chunk


def _download_rejected(job: Any) -> float:
    """Seconds to stream the report's CSV of refused rows (its RSS is the pass's peak's)."""
    from leadsite.leads.imports.rows import rejected_csv

    started, size = time.perf_counter(), 0
    for part in rejected_csv(job):
        size += len(part)
    return time.perf_counter() - started


def child(
    url: str, csv_path: Path, chunk_rows: int, upload_only: bool, progress: int = 0
) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=url,
        LEADSITE_INLINE_WORKER="0",
        SECRET_KEY="bench",
        WEBHOOK_ALLOW_PRIVATE="1",
        ANALYTICS_FLUSH_SECONDS="0.5",
        INGEST_LOG_FLUSH_SECONDS="0.5",
    )
    from leadsite import create_app
    from leadsite.demo import ensure_demo_workspace
    from leadsite.extensions import db
    from leadsite.leads.imports import upload as lead_import
    from leadsite.leads.imports.job import claim_one, run_import
    from leadsite.models import Funnel, LeadImport

    lead_import.CHUNK_ROWS = chunk_rows
    app = create_app()
    result: dict[str, Any] = {"passes": []}
    with app.app_context(), tempfile.TemporaryDirectory() as work:
        demo = ensure_demo_workspace("http://localhost", Path(work) / "credentials.json")
        funnel = db.session.get(Funnel, demo.funnel_id)
        result["rss_before_mb"] = _peak_rss_mb()  # the app and the demo, before any file
        result["rss_at_start_mb"] = _rss_mb()
        for name in ("upload only",) if upload_only else ("new leads", "updates"):
            result["peak_reset"] = _reset_peak()
            started, cpu = time.perf_counter(), [(time.process_time(), _server_cpu())]
            with csv_path.open("rb") as stream:
                job = lead_import.save_upload(demo.workspace_id, None, csv_path.name, stream)
            uploaded = time.perf_counter()
            cpu.append((time.process_time(), _server_cpu()))
            mapping = ["email", "first_name", "last_name", "phone", "custom"]
            if not upload_only:
                lead_import.set_mapping(job, mapping, funnel.id)
                on_chunk = _progress_printer(name, progress) if progress else None
                run_import(job.id, claim_one(job.id), seconds=None, on_chunk=on_chunk)
            ran = time.perf_counter()
            cpu.append((time.process_time(), _server_cpu()))
            done = db.session.get(LeadImport, job.id, populate_existing=True)
            report_s = _download_rejected(done) if done.rejected_count else None
            result["passes"].append(
                item := {
                    "name": name,
                    "rows": done.row_count,
                    "status": done.status,
                    "created": done.created_count,
                    "updated": done.updated_count,
                    "rejected": done.rejected_count,
                    "upload_s": uploaded - started,
                    "run_s": ran - uploaded,
                    # CPU seconds of this process, and of PostgreSQL's backend (None: SQLite,
                    # or the session changed connections), for the upload and for the run
                    "cpu_s": [after[0] - before[0] for before, after in pairwise(cpu)],
                    "db_cpu_s": [
                        after[1][1] - before[1][1] if after[1][0] == before[1][0] != 0 else None
                        for before, after in pairwise(cpu)
                    ],
                    "peak_rss_mb": _peak_rss_mb(),
                    "report_s": report_s,
                }
            )
            print(json.dumps({"pass": item}), flush=True)  # kept should a later pass fail
    return result


def profile(url: str, existing: int, chunk_rows: int, plain: bool = False) -> dict[str, Any]:
    """cProfile of `register_many` on one chunk of new leads and one of updates, after
    `existing` leads were registered (in chunks, unprofiled); counts and times the SQL
    statements too. `plain`: no cProfile (the chunk's time without its overhead)."""
    import cProfile
    import io
    import pstats

    sys.path.insert(0, str(ROOT))
    os.environ.update(
        DATABASE_URL=url, LEADSITE_INLINE_WORKER="0", SECRET_KEY="bench", WEBHOOK_ALLOW_PRIVATE="1"
    )
    from sqlalchemy import event

    from leadsite import create_app
    from leadsite.demo import ensure_demo_workspace
    from leadsite.extensions import db
    from leadsite.leads.imports.job import _keep_statistics, no_cycle_collection
    from leadsite.leads.staff_origins import staff_origin
    from leadsite.models import Funnel, OriginKind
    from leadsite.registration import RegistrationContext
    from leadsite.registration.batch import register_many

    app = create_app()
    report: dict[str, Any] = {}
    with app.app_context(), tempfile.TemporaryDirectory() as work:
        demo = ensure_demo_workspace("http://localhost", Path(work) / "credentials.json")
        funnel = db.session.get(Funnel, demo.funnel_id)
        origin = staff_origin(funnel, OriginKind.IMPORT)
        db.session.commit()
        context = RegistrationContext()
        for start in range(0, existing, chunk_rows):
            seed = lead_inputs("seed", start, min(chunk_rows, existing - start))
            register_many(origin, seed, context)
        _keep_statistics(0, chunk_rows)  # ANALYZE on PostgreSQL, as the job does as it grows
        statements: list[str] = []
        spent: dict[str, float] = {}

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement.split("\n")[0][:90])
            conn.info["bench_started"] = time.perf_counter()

        def timed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            key = statement.split("\n")[0][:90]
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - conn.info["bench_started"]

        event.listen(db.engine, "before_cursor_execute", count)
        event.listen(db.engine, "after_cursor_execute", timed)
        for name, batch in (
            ("new", lead_inputs("new", 0, chunk_rows)),
            ("update", lead_inputs("seed", max(0, existing - chunk_rows), chunk_rows)),
        ):
            statements.clear()
            spent.clear()
            profiler = cProfile.Profile()
            started, cpu = time.perf_counter(), time.process_time()
            if not plain:
                profiler.enable()
            with no_cycle_collection():  # as the job runs a chunk
                outcomes = register_many(origin, batch, context)
            if not plain:
                profiler.disable()
            took, cpu = time.perf_counter() - started, time.process_time() - cpu
            out = io.StringIO()
            if not plain:
                stats = pstats.Stats(profiler, stream=out)
                stats.sort_stats("tottime").print_stats(25)
                stats.sort_stats("cumulative").print_stats(45)
            kinds: dict[str, int] = {}
            for statement in statements:
                kinds[statement] = kinds.get(statement, 0) + 1
            report[name] = {
                "seconds": took,
                "cpu_seconds": cpu,  # this process's: the load of others counts less
                "statuses": sorted({outcome.status for outcome in outcomes}),
                "statements": len(statements),
                "top_statements": [
                    (statement, times, spent.get(statement, 0.0))
                    for statement, times in sorted(kinds.items(), key=lambda kv: -kv[1])[:15]
                ],
                "profile": out.getvalue(),
            }
    return report


def _line(database: str, item: dict[str, Any]) -> str:
    rows = item["rows"]
    run_rate = rows / item["run_s"] if item["name"] != "upload only" else 0.0
    total_rate = rows / (item["upload_s"] + item["run_s"])
    step = 1 if item["name"] != "upload only" else 0  # the run's CPU, or the upload's
    database_ms = item["db_cpu_s"][step]
    database_cpu = f"{database_ms / rows * 1e3:.3f}" if database_ms is not None else "-"
    return (
        f"{database:<11} {item['name']:<10} {rows:>9,} {item['created']:>8,} "
        f"{item['updated']:>8,} {item['rejected']:>5,} {rows / item['upload_s']:>10,.0f} "
        f"{run_rate:>9,.0f} {total_rate:>9,.0f} {run_rate / GOAL_ROWS_PER_S:>6.2f} "
        f"{item['cpu_s'][step] / rows * 1e3:>7.3f} {database_cpu:>6} {item['peak_rss_mb']:>7.0f}"
    )


def _print_profile(database: str, url: str, args: argparse.Namespace) -> None:
    command = [sys.executable, __file__, "--chunk-rows", str(args.chunk_rows)]
    command += ["--profile", str(args.profile), "--child", url, "-"]
    command += ["--no-cprofile"] if args.no_cprofile else []
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if output.returncode != 0:
        sys.exit(f"{database}: the profile's process failed:\n{output.stderr[-3000:]}")
    report = json.loads(output.stdout.strip().splitlines()[-1])
    for name, item in report.items():
        print(
            f"== {database}, {args.chunk_rows} {name} after {args.profile:,} leads: "
            f"{item['seconds']:.3f} s ({item['cpu_seconds']:.3f} s CPU), "
            f"{item['statements']} statements, {item['statuses']}"
        )
        for statement, times, seconds in item["top_statements"]:
            print(f"{times:>6} {seconds * 1000:>8.1f} ms  {statement}")
        print(item["profile"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--chunk-rows", type=int, default=500)
    parser.add_argument(
        "--bad-every", type=int, default=0, metavar="N", help="every Nth row has a bad email"
    )
    parser.add_argument(
        "--phones",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="this share of the rows (0-1) has a phone (none by default)",
    )
    parser.add_argument(
        "--upload-only", action="store_true", help="store the file, run nothing (its RSS)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        metavar="EXISTING",
        help="cProfile register_many on a chunk of new leads and of updates after EXISTING leads",
    )
    parser.add_argument(
        "--no-cprofile", action="store_true", help="with --profile: time and count SQL only"
    )
    add_database_arguments(parser, "lt_import_bench")
    parser.add_argument(
        "--progress",
        type=int,
        default=0,
        metavar="CHUNKS",
        help="every CHUNKS chunks: rows done, their rate, RSS, the session's and gc's objects",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.profile is not None:
        print(json.dumps(profile(args.child[0], args.profile, args.chunk_rows, args.no_cprofile)))
        return
    if args.child:
        url, csv_path = args.child
        result = child(url, Path(csv_path), args.chunk_rows, args.upload_only, args.progress)
        print(json.dumps(result))
        return
    databases = both_databases("import", args.postgres, args.pg_name, args.only)
    print(
        f"bench/import.py at {source_version()}: {args.rows:,} rows, chunks of {args.chunk_rows}, "
        f"{args.phones:.0%} with a phone"
    )
    print(f"goal: {GOAL_ROWS_PER_S:,} rows/s at 1,000,000 rows, peak RSS <= {GOAL_RSS_MB} MB")
    header = (
        f"{'database':<11} {'pass':<10} {'rows':>9} {'created':>8} {'updated':>8} {'rej.':>5} "
        f"{'upload/s':>10} {'run/s':>9} {'total/s':>9} {'/goal':>6} {'app ms':>7} {'db ms':>6} "
        f"{'RSS MB':>7}"
    )
    with tempfile.TemporaryDirectory() as work:
        csv_path = Path(work) / "bench.csv"
        _write_csv(csv_path, args.rows, args.bad_every, args.phones)
        size = csv_path.stat().st_size / 1024 / 1024
        print(f"file: {size:.1f} MB")
        lines, notes, failed = [], [], False
        for database, url in databases.items():
            recreate(url)
            if args.profile is not None:
                _print_profile(database, url, args)
                continue
            output = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--chunk-rows",
                    str(args.chunk_rows),
                    *(["--upload-only"] if args.upload_only else []),
                    *(["--progress", str(args.progress)] if args.progress else []),
                    "--child",
                    url,
                    str(csv_path),
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=None if args.progress else subprocess.PIPE,  # the progress, as it comes
                text=True,
            )
            printed = [json.loads(line) for line in output.stdout.splitlines() if line[:1] == "{"]
            passes = [item["pass"] for item in printed if "pass" in item]
            lines += [_line(database, item) for item in passes]
            if output.returncode != 0:  # the passes done are shown, and the other database run
                failed = True
                error = (output.stderr or "(its output is above)")[-3000:]
                notes.append(f"{database}: the import's process failed:\n{error}")
                continue
            result = printed[-1]
            notes += [
                f"{database} {item['name']}: the {item['rejected']:,} refused rows' CSV streamed "
                f"in {item['report_s']:.1f} s"
                for item in passes
                if item["report_s"] is not None
            ]
            notes.append(
                f"{database}: peak RSS {result['rss_before_mb']:.0f} MB before the file (the demo "
                f"user's argon2 hash), {result['rss_at_start_mb']:.0f} MB resident as it began; "
                + (
                    "RSS MB is each pass's own peak"
                    if result["peak_reset"]
                    else "the peak could not be reset: RSS MB is the process's"
                )
            )
    print(header)
    print("\n".join(lines))
    print("\n".join(notes))
    print("app ms, db ms: CPU ms a row of the run (of the upload, alone) in this process and in")
    print("PostgreSQL's backend; RSS MB: the pass's peak")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
