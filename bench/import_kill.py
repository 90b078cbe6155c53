"""CSV import under kill -9: the worker running an N-row import is killed K times, each time at
a random moment; the next worker takes the job over once its lease has run out. Then: was every
row registered once, and do the job's counts say so?

Per database, in a child process: a fresh database (`lt_import_kill` on PostgreSQL,
instance/bench/import_kill.db on SQLite), the demo workspace, the file uploaded and queued, and
`flask leadsite worker` processes, the way production runs them.

    .venv/bin/python bench/import_kill.py --rows 50000 --kills 3
    .venv/bin/python bench/import_kill.py --only postgresql --pg-name lt_scale_kill
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _databases import BENCH_DIR, add_database_arguments, both_databases, recreate
from _harness import ROOT, source_version

CHUNK_ROWS = 500


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as file:
        file.write("email,first_name,last_name\n")
        for n in range(rows):
            file.write(f"kill{n}@example.com,First{n},Last{n}\n")


WORKER_NAME = "import-kill-worker"  # its PostgreSQL sessions' application_name


def _worker(url: str, lease: int, log: Path) -> subprocess.Popen:
    if url.startswith("postgresql"):
        url += f"?application_name={WORKER_NAME}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "LEADSITE_INLINE_WORKER": "0",
        "WORKER_LEASE_SECONDS": str(lease),
    }
    command = [sys.executable, "-m", "flask", "--app", "app", "leadsite", "worker"]
    with log.open("a") as output:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)


def _in_transaction() -> bool | None:
    """On PostgreSQL, whether a worker's session has a transaction open (a chunk under way,
    most likely); None on SQLite, which cannot tell."""
    from leadsite.extensions import db

    if db.engine.dialect.name != "postgresql":
        return None
    open_ = db.session.scalar(
        db.text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"
            " AND xact_start IS NOT NULL"
        ),
        {"name": WORKER_NAME},
    )
    db.session.rollback()
    return bool(open_)


def child(
    url: str, rows: int, kills: int, lease: int, seed: int, chunk_rows: int = CHUNK_ROWS
) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.update(DATABASE_URL=url, LEADSITE_INLINE_WORKER="0", SECRET_KEY="bench")
    from leadsite import create_app
    from leadsite.demo import ensure_demo_workspace
    from leadsite.extensions import db
    from leadsite.leads.imports import upload
    from leadsite.models import Journey, Lead, LeadImport, LeadImportChunk, LeadImportRejection

    upload.CHUNK_ROWS = chunk_rows  # the file is cut when stored; the workers run its chunks
    chance = random.Random(seed)
    app = create_app()
    with app.app_context(), tempfile.TemporaryDirectory() as work:
        demo = ensure_demo_workspace("http://localhost", Path(work) / "credentials.json")
        csv_path = Path(work) / "kill.csv"
        log = BENCH_DIR / f"import_kill-{db.engine.dialect.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
        _write_csv(csv_path, rows)
        with csv_path.open("rb") as stream:
            job = upload.save_upload(demo.workspace_id, None, csv_path.name, stream)
        upload.set_mapping(job, ["email", "first_name", "last_name"], demo.funnel_id)

        imported = Lead.email.like("kill%@example.com")  # not the demo's sample leads

        def state() -> LeadImport:
            db.session.rollback()  # a fresh snapshot: the workers write from other processes
            return db.session.get(LeadImport, job.id, populate_existing=True)

        def resumed(worker: subprocess.Popen) -> None:
            """Wait for the new worker to commit a chunk after the last kill; note how long.
            (A kill that came after the last chunk, as a small file's can, leaves none to wait
            for.)"""
            if killed:
                while (
                    state().rows_done <= killed[-1]["rows_done"]
                    and state().status == "queued"
                    and worker.poll() is None
                ):
                    time.sleep(0.1)
                killed[-1]["resumed_after_s"] = round(time.monotonic() - killed[-1]["at"], 1)

        killed: list[dict[str, Any]] = []
        started = time.monotonic()
        for number in range(1, kills + 1):
            worker = _worker(url, lease, log)
            resumed(worker)
            target = rows * number // (kills + 1) + chance.randrange(chunk_rows)
            while state().rows_done < target and worker.poll() is None:
                time.sleep(0.1)
            time.sleep(chance.uniform(0, 1.0))  # anywhere in a chunk, or between two
            inside = _in_transaction()
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            at = state()
            leads = db.session.scalar(db.select(db.func.count(Lead.id)).where(imported))
            killed.append(
                {"rows_done": at.rows_done, "leads": leads, "in_transaction": inside}
                | {"at": time.monotonic()}
            )
        worker = _worker(url, lease, log)
        try:
            resumed(worker)
            while state().status == "queued" and worker.poll() is None:
                time.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
        seconds = time.monotonic() - started
        done = state()
        count = db.func.count
        leads = db.session.execute(
            db.select(
                count(Lead.id),
                count(db.distinct(Lead.email)),
                db.func.coalesce(db.func.sum(Lead.counter), 0),
                count(Lead.id).filter(Lead.counter != 1),
            ).where(imported)
        ).one()
        return {
            "rows": rows,
            "status": done.status,
            "counts": [done.created_count, done.updated_count, done.rejected_count],
            "rows_done": done.rows_done,
            "leads": leads[0],
            "distinct_emails": leads[1],
            "registrations": leads[2],  # the sum of the leads' counters
            "leads_registered_twice": leads[3],
            "journeys": db.session.scalar(
                db.select(count(Journey.id)).join(Lead, Lead.id == Journey.lead_id).where(imported)
            ),
            "chunks_left": db.session.scalar(
                db.select(count()).select_from(LeadImportChunk).filter_by(import_id=job.id)
            ),
            "rejections": db.session.scalar(
                db.select(count()).select_from(LeadImportRejection).filter_by(import_id=job.id)
            ),
            "kills": [{k: v for k, v in kill.items() if k != "at"} for kill in killed],
            "seconds": seconds,
            "worker_errors": log.read_text().count("Traceback"),
            "worker_log": str(log),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--lease", type=int, default=5, help="WORKER_LEASE_SECONDS of workers")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--chunk-rows", type=int, default=CHUNK_ROWS, help="rows a chunk (500)")
    add_database_arguments(parser, "lt_import_kill")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(args.child, args.rows, args.kills, args.lease, args.seed, args.chunk_rows)
        print(json.dumps(result, default=str))
        return
    databases = both_databases("import_kill", args.postgres, args.pg_name, args.only)
    print(f"bench/import_kill.py at {source_version()}: {args.rows:,} rows, {args.kills} kills")
    failed = False
    for database, url in databases.items():
        recreate(url)
        command = [sys.executable, __file__, "--rows", str(args.rows), "--kills", str(args.kills)]
        command += ["--lease", str(args.lease), "--seed", str(args.seed)]
        command += ["--chunk-rows", str(args.chunk_rows), "--child", url]
        output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if output.returncode != 0:
            sys.exit(f"{database}: the bench's process failed:\n{output.stderr[-3000:]}")
        result = json.loads(output.stdout.strip().splitlines()[-1])
        rows = result["rows"]
        right = (
            result["status"] == "finished"
            and result["counts"] == [rows, 0, 0]
            and result["leads"] == result["distinct_emails"] == result["registrations"] == rows
            and result["journeys"] == rows
            and result["leads_registered_twice"] == result["chunks_left"] == 0
        )
        failed |= not right
        print(f"{database}: {'RIGHT' if right else 'WRONG'} in {result['seconds']:.0f} s")
        print(json.dumps(result, indent=1))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
