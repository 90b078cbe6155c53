"""The back-office home page: totals, registrations per day per funnel, statuses, top origins,
and my due tasks."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from leadsite import values
from leadsite.backoffice import bp
from leadsite.backoffice.dashboard_chart import build_chart, last_days
from leadsite.backoffice.dashboard_stats import week_summary
from leadsite.backoffice.tasks import today_bounds
from leadsite.extensions import db
from leadsite.htmx import render_page_or_block
from leadsite.journeys.tasks import due_summary, open_tasks
from leadsite.models import Funnel, FunnelStatus, Journey, Lead, Origin, utcnow

PERIOD_DAYS = 30
TOP_ORIGINS = 5
TOP_TASKS = 5


def _count(statement: Any) -> int:
    return db.session.scalar(statement) or 0


def totals(workspace_id: str, since: datetime) -> dict[str, int]:
    """Leads (all and new in the period), funnels (all and active), active origins."""
    # Held leads (registration.held) are not registered yet: they count once accepted.
    leads = (
        select(func.count())
        .select_from(Lead)
        .where(Lead.workspace_id == workspace_id, Lead.held.is_(False))
    )
    funnels = select(func.count()).select_from(Funnel).where(Funnel.workspace_id == workspace_id)
    return {
        "leads": _count(leads),
        "new_leads": _count(leads.where(Lead.created_at >= since)),
        "funnels": _count(funnels),
        "active_funnels": _count(funnels.where(Funnel.status == FunnelStatus.ACTIVE)),
        "origins": _count(
            select(func.count())
            .select_from(Origin)
            .where(Origin.workspace_id == workspace_id, Origin.active.is_(True))
        ),
    }


def _hour_bucket() -> Any:
    """Journey.created_at truncated to the hour, in SQL: grouped by hour, the days are made in
    Python in the workspace's time zone (SQLite knows no time zones)."""
    if db.engine.dialect.name == "postgresql":
        return func.date_trunc("hour", Journey.created_at)
    return func.strftime("%Y-%m-%d %H:00:00", Journey.created_at)


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def registrations_per_day(
    workspace_id: str, since: datetime, zone: ZoneInfo
) -> dict[str, dict[date, int]]:
    """New journeys (registrations into a funnel) per funnel name and local day since `since`."""
    bucket = _hour_bucket().label("hour")
    rows = db.session.execute(
        select(Funnel.name, Funnel.id, bucket, func.count())
        .join(Journey, Journey.funnel_id == Funnel.id)
        .where(Funnel.workspace_id == workspace_id, Journey.created_at >= since)
        .group_by(Funnel.id, Funnel.name, bucket)
    )
    per_funnel: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    names: dict[str, str] = {}
    for name, funnel_id, hour, count in rows:
        # Two funnels may share a name: keep them apart in the legend.
        if funnel_id not in names:
            names[funnel_id] = name if name not in names.values() else f"{name} ({funnel_id[-4:]})"
        label = names[funnel_id]
        per_funnel[label][_as_utc(hour).astimezone(zone).date()] += count
    return per_funnel


def leads_by_status(workspace_id: str) -> list[tuple[str, int]]:
    """How many leads have each status, the commonest first."""
    rows = db.session.execute(
        select(Lead.status, func.count())
        .where(Lead.workspace_id == workspace_id, Lead.held.is_(False))
        .group_by(Lead.status)
        .order_by(func.count().desc(), Lead.status)
    )
    return [(status, count) for status, count in rows]


def top_origins(workspace_id: str, since: datetime) -> list[tuple[Origin, str, int]]:
    """The origins most registrations came through in the period, with their funnel's name."""
    # By the workspace's funnels (`ix_journeys_funnel_created`), as registrations_per_day.
    counts = (
        select(Journey.origin_id, func.count().label("n"))
        .join(Funnel, Funnel.id == Journey.funnel_id)
        .where(Funnel.workspace_id == workspace_id, Journey.created_at >= since)
        .where(Journey.origin_id.is_not(None))
        .group_by(Journey.origin_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Origin, Funnel.name, counts.c.n)
        .join(counts, counts.c.origin_id == Origin.id)
        .join(Funnel, Funnel.id == Origin.funnel_id)
        .order_by(counts.c.n.desc(), Origin.name)
        .limit(TOP_ORIGINS)
    )
    return [(origin, funnel_name, count) for origin, funnel_name, count in rows]


@bp.get("/")
def dashboard() -> Response:
    """Totals, a chart of registrations per day per funnel (30 days), statuses, top origins."""
    workspace = g.workspace
    zone = values.zone(workspace.timezone)
    days = last_days(utcnow().astimezone(zone).date(), PERIOD_DAYS)
    since = datetime.combine(days[0], time(), zone).astimezone(UTC)
    statuses = leads_by_status(workspace.id)
    start_of_today, end_of_today = today_bounds(utcnow())
    return render_page_or_block(
        "backoffice/dashboard.html",
        "content",
        totals=totals(workspace.id, since),
        chart=build_chart(days, registrations_per_day(workspace.id, since, zone)),
        statuses=statuses,
        status_peak=max((count for _, count in statuses), default=0),
        origins=top_origins(workspace.id, since),
        period_days=PERIOD_DAYS,
        mail_configured=bool(current_app.config.get("MAIL_URL")),
        due=due_summary(workspace.id, current_user.id, start_of_today, end_of_today),
        tasks=open_tasks(workspace.id, current_user.id, limit=TOP_TASKS).rows,
        start_of_today=start_of_today,
        week=week_summary(workspace.id, utcnow()),
    )
