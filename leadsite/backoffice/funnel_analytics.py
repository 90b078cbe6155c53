"""A funnel's analytics page: the form funnel and the journey funnel as SVG charts with their
numbers in tables, attribution, a date range and origin filter, and the CSV of it all."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import g, request, url_for
from werkzeug.wrappers import Response

from leadsite.analytics.attribution import DIMENSIONS
from leadsite.analytics.query import parse_query
from leadsite.analytics.report import FORM_LABELS, build_report, csv_rows
from leadsite.backoffice import bp
from leadsite.backoffice.downloads import csv_download
from leadsite.backoffice.funnel_edit import funnel_or_404
from leadsite.htmx import render_page_or_block
from leadsite.leads.export import safe_cell
from leadsite.models import FormEvent, utcnow


def duration(seconds: float | None) -> str:
    """A time span as people say it: "45 s", "12 min", "3 h 20 min", "2 d 4 h"."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


@bp.get("/funnels/edit/<funnel_id>/analytics")
def funnel_analytics(funnel_id: str) -> Response:
    """The funnel's report for `from` to `to` (UTC days, the last 30 by default) and perhaps one
    `origin`; a bad filter is shown on its field (422) beside the default report. htmx swaps
    the report only."""
    funnel = funnel_or_404(funnel_id)
    now = utcnow()
    query, errors = parse_query(g.workspace.id, funnel.id, request.args, now.date())
    report = build_report(query, now)
    context: dict[str, Any] = {
        "funnel": funnel,
        "report": report,
        "data": report.as_dict(),
        "csv_url": url_for(
            "backoffice.funnel_analytics_csv",
            funnel_id=funnel.id,
            **{"from": query.start.isoformat(), "to": query.end.isoformat()},
            **({"origin": query.origin_id} if query.origin_id else {}),
        ),
        "errors": {error.field: error.message for error in errors},
        "args": request.args,
        "form_labels": FORM_LABELS,
        "form_events": list(FormEvent),
        "dimensions": DIMENSIONS,
        "duration": duration,
        "percent": percent,
    }
    return render_page_or_block(
        "backoffice/funnels/analytics.html", "report", status=422 if errors else 200, **context
    )


@bp.get("/funnels/edit/<funnel_id>/analytics.csv")
def funnel_analytics_csv(funnel_id: str) -> Response:
    """The same report as CSV, one number a row (section, group, item, metric, value)."""
    funnel = funnel_or_404(funnel_id)
    now = utcnow()
    query, errors = parse_query(g.workspace.id, funnel.id, request.args, now.date())
    if errors:
        return funnel_analytics(funnel_id)
    data = build_report(query, now).as_dict()
    return csv_download(_lines(csv_rows(data)), name=f"analytics-{funnel.id}")


def _lines(rows: Iterator[list[Any]]) -> Iterator[str]:
    """The rows written as CSV, in one piece (a report is small); names from outside (UTM
    values, referrers) guarded against spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            [safe_cell(v) if isinstance(v, str) else "" if v is None else v for v in row]
        )
    yield buffer.getvalue()
