"""The files side of erasure: CSV imports kept in the imports folder that name an erased lead.

An import keeps its rows (until its run ends) and its outcomes (for the report) on disk. The
lead's rows are emptied, so a run that has not reached them yet cannot register the person
again, and its outcomes lose their label and values. Done after the erasure commits: the
import's lock is then taken without holding the database's, which a running batch may wait for.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from leadsite.erasure.records import Traces
from leadsite.extensions import db
from leadsite.lead_import import folder, paths

log = logging.getLogger(__name__)

PENDING = "leadsite.erasure.files"


def erase_after_commit(traces: Traces) -> None:
    """Redact the import files once the session's transaction commits (never if it rolls
    back)."""
    db.session().info.setdefault(PENDING, []).append(traces)


@event.listens_for(Session, "after_commit")
def _erase_pending(session: Session) -> None:
    for traces in session.info.pop(PENDING, []):
        try:
            erase_from_imports(traces)
        except OSError:
            log.exception("lead %s: its import files could not be redacted", traces.lead_id)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING, None)


@contextmanager
def _import_lock(rows_path: Path) -> Iterator[None]:
    """The lock a running import holds for each batch (see `lead_import_run.run_batch`)."""
    with rows_path.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def erase_from_imports(traces: Traces) -> None:
    """Redact every import of the lead's workspace that names the lead."""
    for job_path in folder().glob("*.json"):
        try:
            job = json.loads(job_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(job, dict) or job.get("workspace_id") != traces.workspace_id:
            continue
        rows_path, _, results_path = paths(job_path.stem)
        with _import_lock(rows_path) if rows_path.exists() else nullcontext():
            rows = _lead_rows(results_path, traces)
            rows |= _redact_rows(rows_path, traces, rows)
            _redact_results(results_path, traces, rows)


def _read_results(results_path: Path) -> list[dict[str, Any]]:
    if not results_path.exists():
        return []
    with results_path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def _lead_rows(results_path: Path, traces: Traces) -> set[int]:
    """Row numbers the import registered as this lead."""
    return {
        item["row"]
        for item in _read_results(results_path)
        if item.get("lead_id") == traces.lead_id and isinstance(item.get("row"), int)
    }


def _replace(path: Path, lines: Iterable[str]) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("w", encoding="utf-8", newline="") as file:
        file.writelines(lines)
    temporary.replace(path)  # atomic: a reader sees the old file or the new one


def _redact_rows(rows_path: Path, traces: Traces, known: set[int]) -> set[int]:
    """Empty the lead's rows (each keeps its number, so the run's position holds)."""
    if not rows_path.exists():
        return set()
    with rows_path.open(encoding="utf-8", newline="") as file:
        records = list(csv.reader(file))
    found: set[int] = set()
    for record in records:
        number, cells = record[0], record[1:]
        if (number.isdigit() and int(number) in known) or traces.named_in(cells):
            found.add(int(number))
            record[1:] = [""] * len(cells)
    if found:
        _replace(rows_path, _csv_lines(records))
    return found


def _csv_lines(records: list[list[str]]) -> Iterator[str]:
    for record in records:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(record)
        yield buffer.getvalue()


def _redact_results(results_path: Path, traces: Traces, rows: set[int]) -> None:
    """The lead's outcomes keep their row, outcome and lead id; their label and values go."""
    items = _read_results(results_path)
    changed = False
    for item in items:
        values = item.get("values") or []
        if (
            item.get("row") in rows
            or item.get("lead_id") == traces.lead_id
            or traces.named_in([item.get("label"), *values])
        ):
            item["label"], changed = "", True
            if "values" in item:
                item["values"] = [""] * len(values)
    if changed:
        _replace(results_path, (json.dumps(item) + "\n" for item in items))
