"""My tasks' queries on PostgreSQL with many steps: their plans and timings (EXPLAIN ANALYZE).

Fills a fresh database with two workspaces (a big one and another), each journey with five
steps of which one in twenty is an open staff task, then runs the list (first page and a deep
page), the tabs' counts, the dashboard's due summary and the failed steps as the back-office
runs them, printing each plan and its execution time.

    .venv/bin/python bench/tasks_plan.py --database postgresql://postgres@127.0.0.1/lt_tasks_bench
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from flask_migrate import upgrade
from sqlalchemy import event, text

from leadsite import create_app
from leadsite.extensions import db
from leadsite.journeys import tasks
from leadsite.models import utcnow

SEED = """
INSERT INTO workspaces (id, name, slug, timezone, default_country, created_at, updated_at)
VALUES ('ws_big', 'Big', 'big', 'UTC', 'US', now(), now()),
       ('ws_other', 'Other', 'other', 'UTC', 'US', now(), now());
INSERT INTO users (id, email, password_hash, active, created_at, updated_at)
VALUES ('usr_me', 'me@example.com', 'x', true, now(), now()),
       ('usr_colleague', 'colleague@example.com', 'x', true, now(), now());
INSERT INTO memberships (id, user_id, workspace_id, role, active, created_at, updated_at)
VALUES ('mem_1', 'usr_me', 'ws_big', 'administrator', true, now(), now()),
       ('mem_2', 'usr_colleague', 'ws_big', 'manager', true, now(), now());
INSERT INTO funnels (id, workspace_id, name, status, identifier, on_duplicate, double_opt_in,
                     notify_emails, settings, created_at, updated_at)
SELECT 'fnl_' || w, w, 'Funnel', 'active', 'email', 'update', false, '[]', '{}', now(), now()
FROM (VALUES ('ws_big'), ('ws_other')) AS v(w);
INSERT INTO leads (id, workspace_id, email, status, tags, custom_fields, counter, opt_in,
                   sms_opt_in, created_at, updated_at)
SELECT 'lead_' || n, CASE WHEN n % 3 = 0 THEN 'ws_other' ELSE 'ws_big' END,
       'lead' || n || '@example.com', 'new', '[]', '{}', 1, false, false, now(), now()
FROM generate_series(1, :journeys) AS n;
INSERT INTO journeys (id, workspace_id, lead_id, funnel_id, status, access_token, valid_until,
                      completed_at, created_at, updated_at)
SELECT 'jrn_' || n, l.workspace_id, l.id, 'fnl_' || l.workspace_id,
       CASE WHEN n % 20 = 0 THEN 'active' ELSE 'completed' END, 'tok' || n, now(),
       CASE WHEN n % 20 = 0 THEN NULL ELSE now() END, now(), now()
FROM generate_series(1, :journeys) AS n JOIN leads l ON l.id = 'lead_' || n;
INSERT INTO journey_steps (id, journey_id, position, kind, title, status, due_at, done_at,
                           assignee_id, attempts, created_at, updated_at)
SELECT 'step_' || n || '_' || p, 'jrn_' || n, p,
       CASE WHEN p = 4 THEN 'staff_task' WHEN p = 0 THEN 'email_lead' ELSE 'lead_task' END,
       'Step ' || p,
       CASE WHEN n % 20 = 0 AND p = 4 THEN 'due' ELSE 'done' END,
       now() + ((n % 41) - 20) * interval '1 day', NULL,
       CASE (n / 20) % 3 WHEN 0 THEN NULL WHEN 1 THEN 'usr_me' ELSE 'usr_colleague' END,
       0, now(), now()
FROM generate_series(1, :journeys) AS n, generate_series(0, 4) AS p;
ANALYZE;
"""


def _explain(sql: str, params: object) -> str:
    rows = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
    return "\n".join(row[0] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1/lt_tasks_bench")
    parser.add_argument("--journeys", type=int, default=150_000)
    parser.add_argument("--reuse", action="store_true", help="keep the rows of the last run")
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database, "SECRET_KEY": "bench"})
    with app.app_context():
        if not args.reuse:
            seed(args.journeys)
        report()


def seed(journeys: int) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade()
    started = time.monotonic()
    with db.engine.begin() as connection:
        for statement in SEED.split(";\n"):
            if statement.strip():
                connection.execute(text(statement), {"journeys": journeys})
    steps = db.session.scalar(text("SELECT count(*) FROM journey_steps"))
    print(f"seeded {steps:,} steps in {time.monotonic() - started:.1f} s")


def report() -> None:
    seen: list[tuple[str, object]] = []
    event.listen(
        db.engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])), named=False
    )
    now = utcnow()
    start, end = now.replace(hour=0, minute=0), now.replace(hour=0, minute=0) + timedelta(1)
    first = tasks.open_tasks("ws_big", "usr_me", tasks.TaskView.TODO)
    calls = {
        "first page (mine and unassigned)": lambda: first,
        "page 20 (mine and unassigned)": lambda: _deep(first),
        "all, one funnel": lambda: tasks.open_tasks(
            "ws_big", "usr_me", tasks.TaskView.ALL, "fnl_ws_big"
        ),
        "tab counts": lambda: tasks.task_counts("ws_big", "usr_me"),
        "dashboard due summary": lambda: tasks.due_summary("ws_big", "usr_me", start, end),
        "failed steps": lambda: tasks.failed_steps("ws_big"),
    }
    for name, call in calls.items():
        seen.clear()
        call()
        if not seen:  # the first page ran before listening: run it again
            tasks.open_tasks("ws_big", "usr_me", tasks.TaskView.TODO)
        sql, params = seen[-1]
        print(f"\n== {name}\n{_explain(sql, params)}")


def _deep(first: tasks.TaskPage) -> tasks.TaskPage:
    page = first
    for _ in range(19):
        page = tasks.open_tasks("ws_big", "usr_me", tasks.TaskView.TODO, after=page.next_cursor)
    return page


if __name__ == "__main__":
    main()
