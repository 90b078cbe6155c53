"""Which statements the product sends read a whole big table on PostgreSQL?

Against a database already holding the demo and many leads (bench/import.py --only postgresql
--pg-name NAME keeps its database; its first pass is enough), `--fill` (once) spreads the
imported leads over two years (stored in that order: CLUSTER), adds a webhook endpoint with a
delivered message and an attempt per lead, and an ingestion log entry per lead. Then it uses
the product as staff, API clients, leads and the worker do (Flask test client), captures every
statement sent, and EXPLAINs (ANALYZE, BUFFERS) each distinct one, in a transaction it rolls
back. It prints each statement's plan time, the big tables it reads by Seq Scan (and the plan
with enable_seqscan off), and, at the end, the list of those and of every statement over 20 ms.

    .venv/bin/python bench/scans.py postgresql://postgres@127.0.0.1/lt_scans_bench --fill
    .venv/bin/python bench/scans.py postgresql://postgres@127.0.0.1/lt_scans_bench --only lead_page
"""

from __future__ import annotations

import _checkout  # noqa: F401  (first: leadsite from this checkout)

# isort: split
import argparse
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _export import make_app
from _harness import source_version
from flask.testing import FlaskClient
from sqlalchemy import event, text

from leadsite import accounts
from leadsite.extensions import db
from leadsite.models import (
    Funnel,
    Journey,
    Lead,
    Origin,
    OriginKind,
    Role,
    WebhookEndpoint,
    Workspace,
)

BIG = {
    "leads",
    "journeys",
    "journey_steps",
    "journey_data",
    "events",
    "outbox_messages",
    "delivery_attempts",
    "ingestion_entries",
    "lead_import_chunks",
    "lead_import_rejections",
    "form_counts",
    "journey_counts",
    "journey_durations",
}
SLOW_MS = 20.0
STAFF_EMAIL = "scans@bench.example"
STAFF_PASSWORD = "scans-bench-password"

FILL = """
CREATE TEMP TABLE shift AS SELECT id, random() * 730 * interval '1 day' AS back FROM leads
    WHERE workspace_id = :ws;
UPDATE leads l SET created_at = l.created_at - s.back, updated_at = l.updated_at - s.back
    FROM shift s WHERE s.id = l.id;
UPDATE journeys j SET created_at = j.created_at - s.back, updated_at = j.updated_at - s.back
    FROM shift s WHERE s.id = j.lead_id;
UPDATE events e SET created_at = e.created_at - s.back FROM shift s WHERE s.id = e.lead_id;
UPDATE journey_steps t SET created_at = t.created_at - s.back, updated_at = t.updated_at - s.back,
    due_at = t.due_at - s.back FROM journeys j JOIN shift s ON s.id = j.lead_id
    WHERE t.journey_id = j.id;
INSERT INTO outbox_messages (id, workspace_id, event_id, endpoint_id, lead_id, channel, target,
    payload, status, attempts, next_attempt_at, delivered_at, created_at)
SELECT 'msg_' || md5(e.id), e.workspace_id, e.id, :endpoint, e.lead_id, 'webhook',
    'https://hooks.example/leadsite', '{}'::jsonb, 'delivered', 1, e.at, e.at, e.at
FROM (SELECT DISTINCT ON (lead_id) id, workspace_id, lead_id,
          now() - random() * interval '25 days' AS at
      FROM events WHERE workspace_id = :ws ORDER BY lead_id, created_at) AS e;
INSERT INTO delivery_attempts (id, message_id, workspace_id, endpoint_id, lead_id, channel,
    target, attempted_at, duration_ms, success, status_code)
SELECT 'att_' || md5(id), id, workspace_id, endpoint_id, lead_id, channel, target,
    created_at, 40, true, 200
FROM outbox_messages WHERE endpoint_id = :endpoint;
INSERT INTO ingestion_entries (id, workspace_id, origin_id, lead_id, at, dialect, outcome,
    status, codes, method, body)
SELECT 'ing_' || md5(l.id), l.workspace_id, :origin, l.id,
    now() - random() * interval '29 days', 'api', 'created', 201,
    '[]'::jsonb, 'POST', '{"email": "redacted"}'
FROM leads l WHERE l.workspace_id = :ws;
"""

CLUSTER = [
    "CLUSTER leads USING ix_leads_workspace_created",
    *(
        statement
        for table in ("journeys", "events")
        for statement in (
            f"CREATE INDEX scans_{table}_created ON {table} (created_at)",
            f"CLUSTER {table} USING scans_{table}_created",
            f"DROP INDEX scans_{table}_created",
        )
    ),
]


@dataclass
class Seen:
    statement: str
    parameters: Any
    actions: list[str] = field(default_factory=list)
    count: int = 0
    wall_ms: float = 0.0


def fill(ws: Workspace) -> None:
    """The imported leads (all made just now) spread over two years with their journeys, events
    and steps; a delivered webhook message and its attempt per lead, and an ingestion entry
    per lead, inside their keeping (so that housekeeping deletes none: a steady state)."""
    endpoint = WebhookEndpoint(workspace_id=ws.id, url="https://hooks.example/leadsite")
    db.session.add(endpoint)
    db.session.flush()
    origin = db.session.scalar(
        db.select(Origin.id)
        .join(Lead, Lead.origin_id == Origin.id)
        .where(Lead.workspace_id == ws.id)
        .group_by(Origin.id)
        .order_by(db.func.count().desc())
        .limit(1)
    )
    for part in FILL.split(";"):
        if part.strip():
            db.session.execute(text(part), {"endpoint": endpoint.id, "ws": ws.id, "origin": origin})
    db.session.commit()
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for statement in CLUSTER:  # stored in the order of creation, as two years would write
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("VACUUM ANALYZE")


def sign_in(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token}
    )
    assert answer.status_code == 302, answer.status_code


def actions(app: Any, client: FlaskClient) -> dict[str, Callable[[], Any]]:
    """What staff, API clients, leads and the worker do, each a name and a call."""
    with app.app_context():
        ws = db.session.scalar(db.select(Workspace).filter_by(slug="demo"))
        user = accounts.set_user(STAFF_EMAIL, STAFF_PASSWORD, name="Scans")
        if not user.memberships:
            accounts.add_member(user, ws, Role.ADMINISTRATOR)
        _key, secret = accounts.create_api_key(ws, "scans")
        db.session.commit()
        total = db.session.scalar(db.select(db.func.count()).select_from(Lead))
        lead = db.session.scalar(
            db.select(Lead).where(Lead.workspace_id == ws.id).order_by(Lead.id).offset(total // 2)
        )
        journey = db.session.scalar(db.select(Journey).filter_by(lead_id=lead.id))
        lead_id, journey_id, token = lead.id, journey.id, journey.access_token
        funnel_id, origin = journey.funnel_id, db.session.get(Origin, journey.origin_id)
        origin_id = origin.id
        endpoint = db.session.scalar(db.select(WebhookEndpoint.id).filter_by(workspace_id=ws.id))
        api_ref, page_ref = (
            db.session.scalar(
                db.select(Origin.ref)
                .join(Funnel, Funnel.id == Origin.funnel_id)
                .where(Funnel.workspace_id == ws.id, Origin.kind == kind)
            )
            for kind in (OriginKind.API, OriginKind.PAGE)
        )
        import_id = db.session.scalar(text("SELECT id FROM lead_imports LIMIT 1"))
    api = {"Authorization": f"Bearer {secret}"}
    origin_page = f"/p/funnels/edit/{funnel_id}/origins/{origin_id}"

    def get(url: str, headers: dict[str, str] | None = None) -> Callable[[], Any]:
        def call() -> Any:
            response = client.get(url, headers=headers)
            assert response.status_code in (200, 302), (url, response.status_code)

        return call

    def worker() -> None:
        from leadsite.outbox import worker as outbox_worker

        outbox_worker.run_once()

    def housekeeping() -> None:
        from leadsite.outbox import housekeeping

        housekeeping.run()

    def register() -> None:
        response = client.post(
            f"/api/v1/leads?ref={api_ref}",
            json={"email": f"scans{time.time_ns()}@example.com", "first_name": "Scan"},
            headers=api,
        )
        assert response.status_code in (200, 201), response.get_data(as_text=True)

    return {
        "dashboard": get("/p/"),
        "leads_list": get("/p/leads"),
        "leads_search": get("/p/leads?q=bench5"),
        "leads_held": get("/p/leads?held=1"),
        "leads_board": get("/p/leads/board"),
        "lead_page": get(f"/p/leads/{lead_id}"),
        "lead_status": get(f"/p/leads/{lead_id}/status"),
        "journey_page_staff": get(f"/p/journeys/{journey_id}"),
        "funnel_analytics": get(f"/p/funnels/edit/{funnel_id}/analytics"),
        "my_tasks": get("/p/tasks"),
        "import_page": get("/p/leads/import"),
        "import_report": get(f"/p/leads/import/{import_id}/report"),
        "origin_page": get(origin_page),
        "origin_log": get(f"{origin_page}/log"),
        "webhooks": get("/p/settings/webhooks"),
        "webhook_deliveries": get(f"/p/settings/webhooks/{endpoint}/deliveries"),
        "api_leads": get("/api/v1/leads", api),
        "api_lead": get(f"/api/v1/leads/{lead_id}", api),
        "api_lead_journeys": get(f"/api/v1/journeys?lead={lead_id}", api),
        "api_journey": get(f"/api/v1/journeys/{journey_id}", api),
        "api_lead_deliveries": get(f"/api/v1/leads/{lead_id}/deliveries", api),
        "api_endpoint_deliveries": get(f"/api/v1/webhooks/{endpoint}/deliveries", api),
        "api_origin_log": get(f"/api/v1/origins/{origin_id}/log", api),
        "api_funnel_analytics": get(f"/api/v1/funnels/{funnel_id}/analytics", api),
        "api_register": register,
        "public_journey": get(f"/j/{token}"),
        "public_form": get(f"/r/{page_ref}"),
        "worker_loop": worker,
        "housekeeping": housekeeping,
    }


BIG_SCAN = re.compile(r"Seq Scan on (\w+)")


def explain(statement: str, parameters: Any, forced: bool = False) -> tuple[list[str], float]:
    """The plan with its actual times, the statement rolled back; its execution time in ms.
    `forced`: with sequential scans priced out, so that a Seq Scan left means no index serves."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if forced:
            cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        plan = [row[0] for row in cursor.fetchall()]
        connection.rollback()
    finally:
        connection.close()
    ms = next(
        (float(line.split(":")[1].split()[0]) for line in plan if "Execution Time" in line), 0
    )
    return plan, ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?", help="a PostgreSQL database prepared as above")
    parser.add_argument("--fill", action="store_true", help="add messages and log entries once")
    parser.add_argument("--only", action="append", help="only these actions")
    parser.add_argument("--plans", action="store_true", help="print every plan in full")
    args, others = parser.parse_known_args()
    if others:  # `make bench BENCH_ARGS=...` passes every script the same options
        print(f"ignoring options for other benchmarks: {' '.join(others)}")
    if not args.url:  # `make bench` runs every script: this one needs its database prepared
        print("bench/scans.py: no database given; see its --help")
        return
    app = make_app(args.url)
    with app.app_context():
        if args.fill:
            fill(db.session.scalar(db.select(Workspace).filter_by(slug="demo")))
    client = app.test_client()
    todo = actions(app, client)
    with app.app_context():
        sign_in(client)
        seen: dict[str, Seen] = {}
        current = [""]
        started: list[float] = [0.0]

        def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            started[0] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            item = seen.setdefault(statement, Seen(statement, parameters))
            if current[0] not in item.actions:
                item.actions.append(current[0])
            item.count += 1
            item.wall_ms = max(item.wall_ms, (time.perf_counter() - started[0]) * 1000)

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        for name, call in todo.items():
            if args.only and name not in args.only:
                continue
            current[0] = name
            call()
            db.session.rollback()
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
        print(f"bench/scans.py at {source_version()}, load {os.getloadavg()[0]:.2f}")
        counts = db.session.execute(
            text(
                "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(:t) "
                "ORDER BY 2 DESC"
            ),
            {"t": sorted(BIG)},
        ).all()
        print("rows: " + ", ".join(f"{name} {n:,}" for name, n in counts))
        big = {name for name, n in counts if n >= 10_000}
        findings = []
        for item in seen.values():
            head = item.statement.lstrip().split()[0].upper()
            if head in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW"):
                continue
            if head == "INSERT" and "SELECT" not in item.statement.upper():
                continue
            parameters = item.parameters
            if isinstance(parameters, list):
                parameters = parameters[0] if parameters else None
            try:
                plan, ms = explain(item.statement, parameters)
            except Exception as error:  # a statement EXPLAIN cannot take
                print(f"\n-- cannot EXPLAIN ({error.__class__.__name__}): {item.statement[:200]}")
                continue
            scans = sorted({t for t in BIG_SCAN.findall("\n".join(plan)) if t in big})
            flag = scans or ms > SLOW_MS
            forced_ms = None
            if scans:
                forced, forced_ms = explain(item.statement, parameters, forced=True)
            if flag:
                findings.append((item, scans, ms, forced_ms))
            if flag or args.plans:
                print(f"\n== {', '.join(item.actions)} x{item.count}: {ms:.1f} ms, seq {scans}")
                print(" ".join(item.statement.split())[:1500])
                print("\n".join("   " + line for line in plan))
                if scans:
                    print(f"   -- with enable_seqscan off: {forced_ms:.1f} ms")
                    print("\n".join("   " + line for line in forced))
        print("\nSUMMARY: statements reading a big table whole, or over 20 ms")
        print("ms, the tables it reads by Seq Scan, ms with enable_seqscan off (the plan above)")
        for item, scans, ms, forced_ms in sorted(findings, key=lambda f: -f[2]):
            sql = " ".join(item.statement.split())[:140]
            off = f"{forced_ms:.1f}" if forced_ms is not None else "-"
            where = f"seq {','.join(scans) or '-'} (off: {off} ms)"
            print(f"{ms:8.1f} ms  {where:<34} {','.join(item.actions)}: {sql}")
        print(f"{len(seen)} distinct statements, {len(findings)} flagged")


if __name__ == "__main__":
    main()
