"""Run one CSV export of the bench workspace's leads in this process; print time, rows, peak RSS.

Run by bench/backoffice.py as a subprocess, so the peak RSS (VmHWM) is the export's alone:

    python bench/_export.py DATABASE_URL endpoint  # GET /p/leads/export, streamed
    python bench/_export.py DATABASE_URL query     # keyset-batched query + csv, as the service
    python bench/_export.py DATABASE_URL core      # the same CSV from Core rows (a prototype)

`core` measures a proposal for leadsite/lead_export.py: the same keyset batches and cells, read
as Core rows (no ORM instances), 5000 a batch.
"""

from __future__ import annotations

import _checkout  # noqa: F401  (first: leadsite from this checkout)

# isort: split
import csv
import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _seed import STAFF_EMAIL, STAFF_PASSWORD, WORKSPACE_SLUG
from flask import Flask
from flask.testing import FlaskClient

from leadsite import create_app
from leadsite.extensions import db
from leadsite.lead_search import LeadFilters, search_leads
from leadsite.models import Workspace

QUERY_BATCH = 1000
CORE_BATCH = 5000
HEADER = [
    "id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "status",
    "origin",
    "tags",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "opt_in",
    "created_at",
]


def memory_kb(field: str) -> int:
    """A field of /proc/self/status in kB: VmHWM is the peak RSS, VmRSS the current one."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def make_app(database_url: str) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": "memory://",
            "LEADSITE_INLINE_WORKER": False,
            "LOGIN_RATE_LIMIT": "1000 per minute",
        }
    )


def sign_in(client: FlaskClient) -> None:
    """Sign the bench staff user in through /login, as a browser does."""
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token}
    )
    if answer.status_code != 302:
        raise SystemExit(f"sign-in failed: {answer.status_code}")


def export_chunks_endpoint(app: Flask) -> Iterator[bytes]:
    client = app.test_client()
    sign_in(client)
    response = client.get("/p/leads/export", buffered=False)
    if response.status_code != 200:
        raise SystemExit(f"/p/leads/export answered {response.status_code}")
    try:
        yield from response.iter_encoded()
    finally:
        response.close()


def export_chunks_query(app: Flask) -> Iterator[bytes]:
    """What a streamed export does: keyset pages of search_leads, each written as CSV."""
    with app.app_context():
        workspace = db.session.scalar(db.select(Workspace).filter_by(slug=WORKSPACE_SLUG))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        after = None
        while True:
            page = search_leads(
                workspace.id,
                LeadFilters(),
                after=after,
                limit=QUERY_BATCH,
                country=workspace.default_country,
            )
            for lead, origin_name in page.rows:
                writer.writerow(
                    [
                        lead.id,
                        lead.email,
                        lead.phone,
                        lead.first_name,
                        lead.last_name,
                        lead.status,
                        origin_name,
                        " ".join(lead.tags),
                        lead.source,
                        lead.utm_source,
                        lead.utm_medium,
                        lead.utm_campaign,
                        "yes" if lead.opt_in else "no",
                        lead.created_at.isoformat(),
                    ]
                )
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            db.session.expunge_all()
            if page.next_cursor is None:
                break
            after = page.next_cursor
        db.session.remove()


def export_chunks_core(app: Flask) -> Iterator[bytes]:
    """The endpoint's CSV (same columns, order and cells, without the BOM) from Core rows."""
    from sqlalchemy import and_, select, tuple_

    from leadsite.lead_export import COLUMNS, _cell
    from leadsite.models import Lead, Origin

    with app.app_context():
        workspace = db.session.scalar(db.select(Workspace).filter_by(slug=WORKSPACE_SLUG))
        table = Lead.__table__
        names = [name for name in COLUMNS if name != "origin"]
        origin_at = COLUMNS.index("origin")
        tags_at, custom_at = names.index("tags"), names.index("custom_fields")
        query = (
            select(*(table.c[name] for name in names), Origin.name)
            .outerjoin(
                Origin, and_(Origin.id == Lead.origin_id, Origin.workspace_id == workspace.id)
            )
            .where(Lead.workspace_id == workspace.id, Lead.erased_at.is_(None))
            .order_by(Lead.created_at.desc(), Lead.id.desc())
            .limit(CORE_BATCH)
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        after: tuple[Any, str] | None = None
        while True:
            batch = query
            if after is not None:
                batch = query.where(tuple_(Lead.created_at, Lead.id) < tuple_(*after))
            rows = db.session.execute(batch).all()
            for row in rows:
                values = list(row[:-1])
                values[tags_at] = ", ".join(values[tags_at] or [])
                custom = values[custom_at]
                values[custom_at] = json.dumps(custom, ensure_ascii=False, default=str) or None
                values[custom_at] = values[custom_at] if custom else None
                values.insert(origin_at, row[-1])
                writer.writerow([_cell(value) for value in values])
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < CORE_BATCH:
                break
            last = rows[-1]
            after = (last.created_at, last.id)
        db.session.remove()


def main() -> int:
    database_url, mode = sys.argv[1], sys.argv[2]
    app = make_app(database_url)
    modes = {
        "endpoint": export_chunks_endpoint,
        "query": export_chunks_query,
        "core": export_chunks_core,
    }
    chunks = modes[mode](app)
    rss_before = memory_kb("VmRSS")
    started = time.perf_counter()
    size = lines = 0
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    result = {
        "mode": mode,
        "seconds": seconds,
        "bytes": size,
        "lines": lines,
        "rss_before_kb": rss_before,
        "peak_rss_kb": memory_kb("VmHWM"),
    }
    print("EXPORT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
