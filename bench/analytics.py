"""Benchmark the funnel analytics page over 1,000,000 leads (and journeys, four steps each) and
10,000,000 counted form views, on SQLite or PostgreSQL.

The world is written by bulk INSERT ... SELECT over a number series (a recursive CTE on SQLite,
generate_series on PostgreSQL): leads and journeys spread evenly over `--days` days to now, 30 %
of journeys completed, the rest at one of two points of a two-stage funnel; first- and last-touch
UTM values, referrers and share codes in cycles. The views are FormCount counts per origin, day,
referrer and campaign that sum to `--views`. The page is then fetched with the test client
(signed in, default range: the last 30 days), `--runs` times after one warm-up; the median is
the figure.

    .venv/bin/python bench/analytics.py                       # SQLite, instance/bench/analytics.db
    .venv/bin/python bench/analytics.py --database postgresql://postgres@127.0.0.1:5432
"""

from __future__ import annotations

import _checkout  # noqa: F401  (first: leadsite from this checkout)

# isort: split
import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import _databases
from _export import make_app, sign_in
from _seed import STAFF_EMAIL, STAFF_PASSWORD, WORKSPACE_SLUG
from sqlalchemy import text

from leadsite import accounts, funnels
from leadsite.analytics.rollup_backfill import backfill
from leadsite.extensions import db
from leadsite.models import ActivityKind, FormEvent, Funnel, FunnelStatus, OriginKind, Role

GOAL_MS = 200.0
SQLITE_NAME = "analytics"
PG_DATABASE = "lt_rollup_bench"
ORIGINS = 4
REFERRERS = ("", "google.com", "facebook.com", "news.example", "blog.example")
CAMPAIGNS = ("", "spring", "summer", "black-friday")
# Counted events per view, beside the views (a form funnel narrowing step by step).
RATIOS = {
    FormEvent.START: 0.4,
    FormEvent.SUBMIT: 0.2,
    FormEvent.HELD: 0.01,
    FormEvent.INVALID: 0.03,
    FormEvent.REGISTERED_NEW: 0.12,
    FormEvent.REGISTERED_RETURNING: 0.03,
    FormEvent.CONFIRMED: 0.1,
    FormEvent.CONVERTED: 0.04,
}


def _fixtures() -> tuple[str, str, list[str], list[str], list[str]]:
    """Workspace, funnel, its origins, stages and activities (the ORM; a handful of rows)."""
    workspace, _ = accounts.get_or_create_workspace("Bench workspace", WORKSPACE_SLUG)
    user = accounts.set_user(STAFF_EMAIL, STAFF_PASSWORD, name="Bench Staff")
    accounts.add_member(user, workspace, Role.MANAGER)
    funnel = Funnel(workspace_id=workspace.id, name="Trial", status=FunnelStatus.ACTIVE)
    db.session.add(funnel)
    db.session.flush()
    stages, activities = [], []
    for name in ("Welcome", "Follow-up"):
        stage = funnels.add_stage(funnel, name)
        stages.append(stage.id)
        for kind in (ActivityKind.LEAD_TASK, ActivityKind.STAFF_TASK):
            activities.append(funnels.add_activity(stage, kind, f"{name}: {kind.value}").id)
    kinds = (OriginKind.PAGE, OriginKind.EMBED, OriginKind.API, OriginKind.BACKOFFICE)
    origins = [funnels.add_origin(funnel, k, f"Trial {k.value}").id for k in kinds]
    db.session.commit()
    return workspace.id, funnel.id, origins, stages, activities


def _pick(values: list[str] | tuple[str, ...], number: str) -> str:
    """SQL choosing values[number % len] (a CASE: both databases)."""
    cases = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE ({number}) % {len(values)} {cases} END"


class Dialect:
    """The few SQL expressions that differ between SQLite and PostgreSQL."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres

    def series(self, name: str, count: int) -> str:
        if self.postgres:
            return f"CREATE TEMP TABLE {name} AS SELECT generate_series(1, {count}) AS n"
        return (
            f"CREATE TEMP TABLE {name} AS WITH RECURSIVE s(n) AS "
            f"(SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) SELECT n FROM s"
        )

    def stamp(self, seconds_ago: str) -> str:
        """The time `seconds_ago` before now, as the column stores it."""
        if self.postgres:
            return f"(now() - ({seconds_ago}) * interval '1 second')"
        return f"(datetime(unixepoch('now') - ({seconds_ago}), 'unixepoch') || '.000000')"

    def plus_hours(self, stamp: str, hours: str) -> str:
        if self.postgres:
            return f"({stamp} + ({hours}) * interval '1 hour')"
        return f"(datetime({stamp}, '+' || ({hours}) || ' hours') || '.000000')"

    def day(self, days_ago: str) -> str:
        if self.postgres:
            return f"(current_date - ({days_ago})::int)"
        return f"date('now', '-' || ({days_ago}) || ' days')"

    def text(self, prefix: str, number: str) -> str:
        if self.postgres:
            return f"('{prefix}' || lpad(({number})::text, 10, '0'))"
        return f"('{prefix}' || printf('%010d', {number}))"

    def true(self) -> str:
        return "true" if self.postgres else "1"


def build(leads: int, views: int, days: int, postgres: bool) -> dict[str, float]:
    """Write the world; returns seconds per table."""
    sql = Dialect(postgres)
    workspace, funnel, origins, stages, activities = _fixtures()
    spacing = days * 86400 / leads  # seconds between two registrations
    timings: dict[str, float] = {}

    def run(name: str, statement: str) -> None:
        started = time.perf_counter()
        db.session.execute(text(statement))
        db.session.commit()
        timings[name] = round(time.perf_counter() - started, 1)

    run("series", sql.series("seq", leads))
    created = sql.stamp(f"n * {spacing}")
    run(
        "leads",
        "INSERT INTO leads (id, workspace_id, email, status, tags, custom_fields, counter, "
        "opt_in, sms_opt_in, created_at, updated_at) SELECT "
        f"{sql.text('lead_', 'n')}, '{workspace}', {sql.text('bench', 'n')} || '@example.com', "
        f"'new', '[]', '{{}}', 1, {sql.true()}, {sql.true()}, {created}, {created} FROM seq",
    )
    completed = "n % 10 < 3"
    run(
        "journeys",
        "INSERT INTO journeys (id, workspace_id, lead_id, funnel_id, origin_id, status, "
        "current_stage_id, access_token, valid_until, completed_at, referrer_host, utm_source, "
        "utm_medium, utm_campaign, last_referrer_host, last_utm_source, last_utm_medium, "
        "last_utm_campaign, share_code, created_at, updated_at) SELECT "
        f"{sql.text('jrn_', 'n')}, '{workspace}', {sql.text('lead_', 'n')}, '{funnel}', "
        f"{_pick(origins, 'n')}, CASE WHEN {completed} THEN 'completed' ELSE 'active' END, "
        f"CASE WHEN {completed} THEN NULL WHEN n % 2 = 0 THEN '{stages[1]}' "
        f"ELSE '{stages[0]}' END, {sql.text('tok', 'n')}, {created}, "
        f"CASE WHEN {completed} THEN {sql.plus_hours(created, 'n % 97')} END, "
        f"{_pick(REFERRERS, 'n / 3')}, {_pick(['google', 'facebook', 'newsletter', ''], 'n')}, "
        f"{_pick(['cpc', 'social', 'email', ''], 'n')}, {_pick(CAMPAIGNS, 'n / 7')}, "
        f"{_pick(REFERRERS, 'n / 5')}, {_pick(['google', 'newsletter', ''], 'n / 2')}, "
        f"{_pick(['cpc', 'email', ''], 'n / 2')}, {_pick(CAMPAIGNS, 'n / 11')}, "
        f"CASE WHEN n % 20 = 0 THEN {sql.text('K', 'n % 1000')} END, {created}, {created} "
        "FROM seq",
    )
    # Four steps a journey: Welcome (k 0, 1), Follow-up (k 2, 3). Completed journeys did all;
    # an even active one finished Welcome and waits in Follow-up; an odd one waits in Welcome.
    waiting_first = f"NOT ({completed}) AND n % 2 = 1"
    status = (
        f"CASE WHEN {completed} THEN 'done' WHEN {waiting_first} THEN "
        "(CASE k WHEN 0 THEN 'due' WHEN 1 THEN 'done' ELSE 'pending' END) "
        "ELSE (CASE k WHEN 0 THEN 'done' WHEN 1 THEN 'done' ELSE 'due' END) END"
    )
    due = f"CASE WHEN {waiting_first} AND k >= 2 THEN NULL ELSE {sql.plus_hours(created, 'k')} END"
    done_hours = "k + (n * (k + 1)) % 50"
    done = f"CASE WHEN ({status}) = 'done' THEN {sql.plus_hours(created, done_hours)} END"
    run(
        "journey_steps",
        "INSERT INTO journey_steps (id, journey_id, activity_id, stage_id, position, kind, "
        "title, status, due_at, done_at, attempts, created_at, updated_at) SELECT "
        f"{sql.text('step_', 'n * 4 + k')}, {sql.text('jrn_', 'n')}, "
        f"{_pick(activities, 'k')}, CASE WHEN k < 2 THEN '{stages[0]}' ELSE '{stages[1]}' END, "
        f"k, CASE WHEN k % 2 = 0 THEN 'lead_task' ELSE 'staff_task' END, 'Step', {status}, "
        f"{due}, {done}, 0, {created}, {created} "
        "FROM seq CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 "
        "UNION ALL SELECT 3) AS steps",
    )
    _form_counts(sql, run, workspace, funnel, origins, views, days)
    started = time.perf_counter()
    backfill(db.session.connection())  # what migration 0009_rollup does to a stored world
    db.session.commit()
    timings["rollup_backfill"] = round(time.perf_counter() - started, 1)
    run("analyze", "ANALYZE")
    return timings


def _form_counts(sql: Dialect, run, workspace: str, funnel: str, origins, views: int, days: int):
    """Counter rows per origin, day, referrer and campaign: views summing to `views`, and
    each other event a share of them (the validation failures on the email field)."""
    keys = len(REFERRERS) * len(CAMPAIGNS)
    per_row = -(-views // (ORIGINS * days * keys))  # rounded up: at least `views` in all
    cells = ORIGINS * days * keys
    run("form_series", sql.series("cells", cells))
    events = [(FormEvent.VIEW, 1.0), *RATIOS.items()]
    for index, (event, ratio) in enumerate(events):
        field = "email" if event == FormEvent.INVALID else ""
        run(
            f"form_counts_{event.value}",
            "INSERT INTO form_counts (id, workspace_id, funnel_id, origin_id, day, event, "
            "field, referrer_host, utm_campaign, count) SELECT "
            f"{sql.text(f'fc{index}_', 'n')}, '{workspace}', '{funnel}', "
            f"{_pick(origins, 'n')}, {sql.day(f'(n - 1) / {ORIGINS * keys}')}, "
            f"'{event.value}', '{field}', {_pick(REFERRERS, f'n / {ORIGINS}')}, "
            f"{_pick(CAMPAIGNS, f'n / {ORIGINS * len(REFERRERS)}')}, "
            f"{max(round(per_row * ratio), 1)} FROM cells",
        )


def measure(app, funnel_id: str, runs: int, days: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds (this process: on SQLite the database's work too) of the page
    for the last `days` days, `runs` times after one warm-up."""
    client = app.test_client()
    sign_in(client)
    today = datetime.now(UTC).date()
    start = (today - timedelta(days=days - 1)).isoformat()
    url = f"/p/funnels/edit/{funnel_id}/analytics?from={start}&to={today.isoformat()}"
    walls, cpus = [], []
    for index in range(runs + 1):
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if index:  # the first warms the caches
            walls.append(elapsed)
            cpus.append((time.process_time() - cpu) * 1000)
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="postgresql://user@host[:port]; default SQLite")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--views", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=1095, help="spread over (default 3 years)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="measure an already built world")
    parser.add_argument(
        "--pg-name", default=PG_DATABASE, help=f"the PostgreSQL database ({PG_DATABASE})"
    )
    args = parser.parse_args()
    postgres = _databases.is_postgres(args.database)
    url = _databases.database_url(args.database, args.pg_name if postgres else SQLITE_NAME)
    if not args.reuse:
        _databases.recreate(url)
    app = make_app(url)
    with app.app_context():
        if not args.reuse:
            started = time.perf_counter()
            timings = build(args.leads, args.views, args.days, postgres)
            print(f"built in {time.perf_counter() - started:.0f} s: {timings}")
        funnel_id = db.session.scalar(text("SELECT id FROM funnels WHERE name = 'Trial'"))
        total_views = db.session.scalar(
            text("SELECT sum(count) FROM form_counts WHERE event = 'view'")
        )
        in_range = {
            days: db.session.scalar(
                text("SELECT count(*) FROM journeys WHERE funnel_id = :f AND created_at >= :s"),
                {"f": funnel_id, "s": _since(postgres, days)},
            )
            for days in (30, 7)
        }
        db.session.remove()
    engine = "PostgreSQL" if postgres else "SQLite"
    print(f"{engine}: {args.leads:,} leads over {args.days} days, {total_views:,} views")
    for days in (30, 7):
        walls, cpus = measure(app, funnel_id, args.runs, days)
        print(
            f"  last {days} days ({in_range[days]:,} journeys): page median "
            f"{statistics.median(walls):.0f} ms (p90 {statistics.quantiles(walls, n=10)[-1]:.0f}"
            f" ms), app CPU median {statistics.median(cpus):.0f} ms, over {args.runs} runs; "
            f"load average {os.getloadavg()[0]:.1f} (goal {GOAL_MS:.0f} ms)"
        )


def _since(postgres: bool, days: int) -> object:
    day = datetime.now(UTC).date() - timedelta(days=days - 1)
    start = datetime.combine(day, datetime.min.time(), UTC)
    return start if postgres else start.strftime("%Y-%m-%d %H:%M:%S.%f")


if __name__ == "__main__":
    main()
