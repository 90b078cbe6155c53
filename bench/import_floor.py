"""The database's own share of an imported chunk: what writing a chunk's rows costs with the
driver alone, beside what the app's chunk costs, so that the import's rate can be read against a
ceiling no Python code above the driver can pass.

In a child process per database (a fresh database with the demo workspace): `--leads` new leads
are registered through `register_many` in chunks of `--chunk` (the import's path). Then, in
alternating rounds:

- **app**: another chunk of new leads through `register_many`, in the import job's GC setting;
- **driver**: the rows the last chunk wrote (its leads, journeys, steps and events, read back)
  written again as new rows, ids and unique values renamed, with the driver alone: one
  `executemany` per table on SQLite, one `COPY ... FROM STDIN` per table on PostgreSQL (as
  `models.rows.NewRows` writes them), and the commit.

Prints, per lead, the median wall time, this process's CPU and (PostgreSQL) the server
backend's CPU of each, and the leads/s that the wall time allows.

    .venv/bin/python bench/import_floor.py
    .venv/bin/python bench/import_floor.py --only sqlite --rounds 7
    .venv/bin/python bench/import_floor.py --source /tmp/base   # another tree's app (a base)
    .venv/bin/python bench/import_floor.py --phones 1   # every lead with a phone (none: 0)
    .venv/bin/python bench/import_floor.py --columns   # a status and two data points a lead

`--source DIR` runs the app of another tree (a `git archive` of a base commit) in the child,
on databases migrated by this tree's migrations: alternate it with runs of this tree to compare
the app's CPU a lead of two commits.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _databases import add_database_arguments, both_databases, recreate
from _harness import ROOT, lead_inputs, source_version

GOAL_ROWS_PER_S = 5_000
TABLES = ("leads", "journeys", "journey_steps", "events")  # parents first


def _backend_cpu_s(pid: int | None) -> float:
    """The CPU time of the PostgreSQL backend `pid` (same machine), 0 for SQLite: from
    /proc/<pid>/schedstat in nanoseconds where the kernel keeps it (/proc/<pid>/stat counts
    10 ms ticks, 20 us a lead in a chunk of 500: coarser than an index's cost)."""
    if pid is None:
        return 0.0
    schedstat = Path(f"/proc/{pid}/schedstat")
    if schedstat.exists():
        return int(schedstat.read_text().split()[0]) / 1e9
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(
    url: str,
    leads: int,
    chunk: int,
    rounds: int,
    source: str,
    phones: float = 0.0,
    columns: bool = False,
) -> dict[str, Any]:
    sys.path.insert(0, source)
    os.environ.update(
        DATABASE_URL=url, LEADSITE_INLINE_WORKER="0", SECRET_KEY="bench", WEBHOOK_ALLOW_PRIVATE="1"
    )
    from sqlalchemy import text

    from leadsite import create_app
    from leadsite.extensions import db
    from leadsite.ids import new_id
    from leadsite.leads.imports.job import _keep_statistics, no_cycle_collection
    from leadsite.registration import RegistrationContext
    from leadsite.registration.batch import register_many

    app = create_app()
    timings: dict[str, list[tuple[float, float, float]]] = {"app": [], "driver": []}
    with app.app_context(), tempfile.TemporaryDirectory() as work:
        origin, last = seeded(Path(work), leads, chunk, phones)
        context = RegistrationContext()
        _keep_statistics(0, leads, first=True)  # ANALYZE on PostgreSQL, as the job does
        postgres = db.engine.dialect.name == "postgresql"
        connection = db.engine.raw_connection()
        driver = connection.driver_connection
        cursor = driver.cursor()
        backend = None
        if postgres:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        chunk_rows = _read_chunk(cursor, last, postgres)
        renamed = _renaming(db.metadata)
        for index in range(rounds):
            # app: a chunk of new leads through the import's path
            db.session.commit()
            pid = _app_backend(db, text) if postgres else None
            started, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu_s(pid)
            with no_cycle_collection():
                inputs = lead_inputs(f"app{index}-", 0, chunk, phones, columns)
                register_many(origin, inputs, context)
            timings["app"].append(
                (
                    time.perf_counter() - started,
                    time.process_time() - cpu,
                    _backend_cpu_s(pid) - server,
                )
            )
            # driver: the last seeded chunk's rows again, renamed, with the driver alone
            rows = _renamed(chunk_rows, renamed, new_id, f"r{index}")
            started, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu_s(backend)
            _write(cursor, rows, postgres)
            driver.commit()
            timings["driver"].append(
                (
                    time.perf_counter() - started,
                    time.process_time() - cpu,
                    _backend_cpu_s(backend) - server,
                )
            )
        connection.close()
    counts = {table: len(values) for table, (_, values) in chunk_rows.items()}
    return {"timings": timings, "chunk": chunk, "rows": counts}


def seeded(work: Path, leads: int, chunk: int, phones: float = 0.0) -> tuple[Any, list[str]]:
    """In the app's context: the demo's import origin, `leads` new leads registered through
    it in chunks, and the ids of the last chunk's (whose rows the driver writes again)."""
    from leadsite.demo import ensure_demo_workspace
    from leadsite.extensions import db
    from leadsite.leads.staff_origins import staff_origin
    from leadsite.models import Funnel, Lead, OriginKind
    from leadsite.registration import RegistrationContext
    from leadsite.registration.batch import register_many

    demo = ensure_demo_workspace("http://localhost", work / "credentials.json")
    origin = staff_origin(db.session.get(Funnel, demo.funnel_id), OriginKind.IMPORT)
    db.session.commit()
    context = RegistrationContext()
    for start in range(0, leads, chunk):
        seed = lead_inputs(f"seed{start}-", 0, min(chunk, leads - start), phones)
        register_many(origin, seed, context)
    last = db.session.scalars(
        db.select(Lead.id).where(Lead.origin_id == origin.id).order_by(Lead.id.desc()).limit(chunk)
    ).all()
    db.session.commit()
    return origin, list(last)


def _app_backend(db: Any, text: Any) -> int:
    """The backend of the session's connection (the app's writes go through it)."""
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    db.session.commit()  # the pool hands the same connection back to the next transaction
    return int(pid)


def _read_chunk(
    cursor: Any, lead_ids: list[str], postgres: bool
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each table's rows of these leads, as the driver reads them: (columns, rows)."""
    mark = "%s" if postgres else "?"
    marks = ", ".join([mark] * len(lead_ids))
    wheres = {
        "leads": f"id IN ({marks})",
        "journeys": f"lead_id IN ({marks})",
        "journey_steps": f"journey_id IN (SELECT id FROM journeys WHERE lead_id IN ({marks}))",
        "events": f"lead_id IN ({marks})",
    }
    result = {}
    for table in TABLES:
        cursor.execute(f"SELECT * FROM {table} WHERE {wheres[table]}", lead_ids)
        columns = [column[0] for column in cursor.description]
        values = [list(row) for row in cursor.fetchall()]
        if postgres:  # JSON as text, as NewRows' bind processing sends it
            values = [[_json_text(value) for value in row] for row in values]
        result[table] = (columns, values)
    return result


def _json_text(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def _renaming(metadata: Any) -> dict[str, set[str]]:
    """Per table, the columns whose values must change for a copy to be new: unique columns
    that are no foreign key (the keys are renamed through the ids' mapping)."""
    from sqlalchemy import UniqueConstraint

    result = {}
    for name in TABLES:
        table = metadata.tables[name]
        unique = [c.columns for c in table.constraints if isinstance(c, UniqueConstraint)]
        unique += [index.columns for index in table.indexes if index.unique]
        result[name] = {
            column.name
            for columns in unique
            for column in columns
            if not column.foreign_keys and not column.primary_key
        }
    return result


def _renamed(
    chunk: dict[str, tuple[list[str], list[list[Any]]]],
    renamed: dict[str, set[str]],
    new_id: Any,
    suffix: str,
) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    ids: dict[str, str] = {}
    for columns, values in chunk.values():
        at = columns.index("id")
        for row in values:
            ids[row[at]] = new_id(row[at].split("_")[0])
    result = {}
    for table, (columns, values) in chunk.items():
        unique = [index for index, name in enumerate(columns) if name in renamed[table]]
        rows = []
        for row in values:
            copy = [ids.get(value, value) if isinstance(value, str) else value for value in row]
            for index in unique:
                if copy[index] is not None:
                    copy[index] = f"{copy[index]}{suffix}"
            rows.append(tuple(copy))
        result[table] = (columns, rows)
    return result


def _write(
    cursor: Any, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]], postgres: bool
) -> None:
    """One transaction (the app's SQLite connections leave BEGIN to the caller)."""
    if not postgres:
        cursor.execute("BEGIN IMMEDIATE")
    for table in TABLES:
        columns, values = rows[table]
        listed = ", ".join(f'"{name}"' for name in columns)
        if postgres:
            with cursor.copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({listed}) VALUES ({marks})", values)


def _summary(item: list[tuple[float, float, float]], chunk: int) -> tuple[float, float, float]:
    """Median wall, app CPU and backend CPU per lead, microseconds."""
    return tuple(statistics.median(part[i] for part in item) / chunk * 1e6 for i in range(3))


def _version(source: str) -> str:
    return source_version() if Path(source).resolve() == ROOT else f"the tree {source}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=2_000, help="leads registered first (2000)")
    parser.add_argument("--chunk", type=int, default=500, help="leads a chunk (500)")
    parser.add_argument("--rounds", type=int, default=5, help="app/driver pairs (5)")
    add_database_arguments(parser, "lt_import_floor")
    parser.add_argument("--source", default=str(ROOT), help="the app's tree (this one)")
    parser.add_argument(
        "--phones", type=float, default=0.0, metavar="SHARE", help="share of leads with a phone"
    )
    parser.add_argument(
        "--columns",
        action="store_true",
        help="each lead also a status and two journey data values (the app's chunk only)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(
            args.child, args.leads, args.chunk, args.rounds, args.source, args.phones, args.columns
        )
        print(json.dumps(result))
        return
    databases = both_databases("import_floor", args.postgres, args.pg_name, args.only)
    print(
        f"bench/import_floor.py at {_version(args.source)}: chunks of {args.chunk} new leads after "
        f"{args.leads:,}, {args.rounds} rounds, {args.phones:.0%} with a phone, "
        f"{'a status and two data points' if args.columns else 'no status nor data'} a lead, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"{'database':<11} {'write':<7} {'wall us/lead':>13} {'app CPU us':>11} "
        f"{'server CPU us':>14} {'leads/s':>8} {'/goal':>6}"
    )
    for name, url in databases.items():
        recreate(url)
        command = [sys.executable, __file__, "--child", url, "--leads", str(args.leads)]
        command += ["--chunk", str(args.chunk), "--rounds", str(args.rounds)]
        command += ["--source", args.source, "--phones", str(args.phones)]
        command += ["--columns"] if args.columns else []
        output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if output.returncode != 0:
            sys.exit(f"{name}: the child failed:\n{output.stderr[-3000:]}")
        report = json.loads(output.stdout.strip().splitlines()[-1])
        for kind in ("app", "driver"):
            wall, cpu, server = _summary(report["timings"][kind], report["chunk"])
            print(
                f"{name:<11} {kind:<7} {wall:>13.0f} {cpu:>11.0f} {server:>14.0f} "
                f"{1e6 / wall:>8,.0f} {1e6 / wall / GOAL_ROWS_PER_S:>6.2f}"
            )
        rows = ", ".join(f"{table} {count}" for table, count in report["rows"].items())
        print(f"{name:<11} a chunk's rows: {rows}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
