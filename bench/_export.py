"""Run one CSV export of the bench workspace's leads in this process; print time, rows, peak RSS.

Run by bench/backoffice.py as a subprocess, so the peak RSS (VmHWM) is the export's alone:

    python bench/_export.py DATABASE_URL endpoint  # GET /p/leads/export, streamed
    python bench/_export.py DATABASE_URL query     # keyset-batched query + csv, as the service
    python bench/_export.py DATABASE_URL copy      # PostgreSQL: the same CSV by COPY (a prototype)

`copy` measures a proposal for PostgreSQL: the endpoint's CSV (without the BOM) written by the
server with `COPY (SELECT ...) TO STDOUT WITH CSV`, every cell formatted in SQL as
leadsite/leads/export.py formats it in Python, the rows passed through as psycopg hands them over.
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

from _seed import STAFF_EMAIL, STAFF_PASSWORD, WORKSPACE_SLUG
from flask import Flask
from flask.testing import FlaskClient

from leadsite import create_app
from leadsite.extensions import db
from leadsite.leads.search import LeadFilters, search_leads
from leadsite.models import Workspace

QUERY_BATCH = 1000
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


# PostgreSQL expressions for leadsite/leads/export.py's cells. Text: a leading ' when a
# spreadsheet would run it (safe_cell, with ASCII digits for \d); NULLIF, because COPY quotes
# an empty string ("") where csv.writer writes nothing.
SAFE = (
    r"NULLIF(CASE WHEN {0} ~ '^[-=+@\t\r]' AND {0} !~ '^[-+]?[0-9][0-9 .]*$' "
    r"THEN '''' || {0} ELSE {0} END, '')"
)
STAMP = (
    """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN """
    "date_part('microseconds', {0})::int %% 1000000 = 0 THEN '' "
    "ELSE to_char({0} AT TIME ZONE 'UTC', '.US') END || 'Z'"
)
FLAG = "CASE WHEN {0} THEN 'true' WHEN NOT {0} THEN 'false' END"


def _copy_cell(name: str) -> str:
    from leadsite.leads.export import AS_IS, FLAGS, STAMPS

    column = f"leads.{name}"
    if name == "origin":
        return SAFE.format("origins.name")
    if name in AS_IS:
        return column
    if name in FLAGS:
        return FLAG.format(column)
    if name in STAMPS:
        return STAMP.format(column)
    if name == "tags":
        joined = f"array_to_string(ARRAY(SELECT jsonb_array_elements_text({column})), ', ')"
        return SAFE.format(joined)
    if name == "custom_fields":
        return f"CASE WHEN {column} NOT IN ('{{}}', 'null') THEN {column}::text END"
    return SAFE.format(column)


def export_chunks_copy(app: Flask) -> Iterator[bytes]:
    """The endpoint's CSV (without the BOM) from COPY ... TO STDOUT, one statement."""
    from leadsite.leads.export import COLUMNS

    with app.app_context():
        workspace = db.session.scalar(db.select(Workspace).filter_by(slug=WORKSPACE_SLUG))
        cells = ", ".join(_copy_cell(name) for name in COLUMNS)
        query = (
            f"COPY (SELECT {cells} FROM leads LEFT OUTER JOIN origins ON origins.id = "
            "leads.origin_id AND origins.workspace_id = %(ws)s WHERE leads.workspace_id = %(ws)s "
            "AND leads.erased_at IS NULL ORDER BY leads.created_at DESC, leads.id DESC) "
            "TO STDOUT WITH (FORMAT csv)"
        )
        yield (",".join(COLUMNS) + "\r\n").encode()
        raw = db.engine.raw_connection()
        try:
            with raw.cursor().copy(query, {"ws": workspace.id}) as copy:
                # PostgreSQL sends one row a message, ending in \n; csv.writer ends rows in \r\n.
                for row in copy:
                    yield bytes(row[:-1]) + b"\r\n"
        finally:
            raw.close()


def main() -> int:
    database_url, mode = sys.argv[1], sys.argv[2]
    app = make_app(database_url)
    modes = {
        "endpoint": export_chunks_endpoint,
        "query": export_chunks_query,
        "copy": export_chunks_copy,
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
