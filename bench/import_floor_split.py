"""Where PostgreSQL's CPU for an imported chunk's rows goes: the foreign-key checks, the
indexes, or the rows themselves.

A fresh database (`--pg-name`) with the demo workspace and `--leads` new leads registered through
`register_many` (the import's path); then the last chunk's rows (leads, journeys, steps, events:
`import_floor.py`'s "driver alone"), renamed, are copied again with `COPY` in four ways, in
alternating rounds, each in a transaction rolled back (so no commit is counted):

- **as stored**: every index and foreign-key check;
- **no FK triggers**: `SET LOCAL session_replication_role = replica` (no foreign-key checks);
- **no free indexes**: the indexes that back no constraint dropped in the transaction;
- **neither**.

Prints the server backend's median CPU a lead for each (`/proc/<pid>/schedstat`).

    .venv/bin/python bench/import_floor_split.py --leads 4000 --chunk 2000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _databases import add_database_arguments, both_databases, recreate
from _harness import ROOT, source_version
from import_floor import TABLES, _backend_cpu_s, _read_chunk, _renamed, _renaming, seeded

VARIANTS = {  # name: (without foreign-key triggers, without the free indexes)
    "as stored": (False, False),
    "no FK triggers": (True, False),
    "no free indexes": (False, True),
    "neither": (True, True),
}
FREE_INDEXES = (
    "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
    "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = ANY(%s) "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = x.indexrelid)"
)


def child(url: str, leads: int, chunk: int, rounds: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.update(DATABASE_URL=url, LEADSITE_INLINE_WORKER="0", SECRET_KEY="bench")
    from leadsite import create_app
    from leadsite.extensions import db
    from leadsite.ids import new_id

    app = create_app()
    with app.app_context(), tempfile.TemporaryDirectory() as work:
        _, last = seeded(Path(work), leads, chunk)
        connection = db.engine.raw_connection()
        driver = connection.driver_connection
        cursor = driver.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
        chunk_rows = _read_chunk(cursor, last, True)
        cursor.execute(FREE_INDEXES, [list(TABLES)])
        free = [row[0] for row in cursor.fetchall()]
        driver.commit()
        renamed = _renaming(db.metadata)
        timings: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for index in range(rounds):
            for letter, (name, (no_triggers, no_indexes)) in zip(
                "abcd", VARIANTS.items(), strict=True
            ):
                # A short suffix: the share code's column holds 16 characters.
                rows = _renamed(chunk_rows, renamed, new_id, f"{index}{letter}")
                if no_triggers:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                for index_name in free if no_indexes else []:
                    cursor.execute(f'DROP INDEX "{index_name}"')
                started = _backend_cpu_s(backend)
                for table in TABLES:
                    columns, values = rows[table]
                    listed = ", ".join(f'"{column}"' for column in columns)
                    with cursor.copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
                        for row in values:
                            copy.write_row(row)
                timings[name].append((_backend_cpu_s(backend) - started) / len(last) * 1e6)
                driver.rollback()
        connection.close()
    return {"timings": timings, "free": free}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=4_000, help="leads registered first (4000)")
    parser.add_argument("--chunk", type=int, default=2_000, help="leads a chunk (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the four (5)")
    add_database_arguments(parser, "lt_import_floor_split")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.leads, args.chunk, args.rounds)))
        return
    if args.only == "sqlite":
        sys.exit("PostgreSQL only: it reads the server backend's CPU")
    url = both_databases("", args.postgres, args.pg_name, "postgresql")["postgresql"]
    recreate(url)
    command = [sys.executable, __file__, "--child", url, "--leads", str(args.leads)]
    command += ["--chunk", str(args.chunk), "--rounds", str(args.rounds)]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if output.returncode != 0:
        sys.exit(f"the child failed:\n{output.stderr[-3000:]}")
    report = json.loads(output.stdout.strip().splitlines()[-1])
    print(
        f"bench/import_floor_split.py at {source_version()}: COPY of a chunk of {args.chunk} "
        f"leads' rows after {args.leads:,}, {args.rounds} rounds, load average "
        f"{os.getloadavg()[0]:.2f}; {len(report['free'])} free indexes"
    )
    print(f"{'variant':<16} {'server CPU us/lead':>19}")
    for name, values in report["timings"].items():
        print(f"{name:<16} {statistics.median(values):>19.1f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
