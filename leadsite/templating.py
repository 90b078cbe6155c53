"""Jinja set-up: the navigation, vendored asset names and display filters."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, g

from leadsite import labels, values
from leadsite.htmx import is_htmx
from leadsite.models import in_zone
from leadsite.outbox.mail import kept_here

HTMX_VERSION = "4.0.1"

# (label, endpoint, administrators only); an endpoint not registered yet is not shown.
NAVIGATION = [
    ("Dashboard", "backoffice.dashboard", False),
    ("Leads", "backoffice.leads_index", False),
    ("My tasks", "backoffice.tasks_index", False),
    ("Funnels", "backoffice.funnels_index", False),
    ("Data points", "backoffice.data_points_index", False),
    ("Settings", "backoffice.workspace_edit", True),
]


def navigation() -> list[tuple[str, str]]:
    membership = g.get("membership")
    return [
        (label, endpoint)
        for label, endpoint, admin_only in NAVIGATION
        if endpoint in current_app.view_functions
        and (not admin_only or (membership is not None and membership.is_administrator))
    ]


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp in the current workspace's time zone."""
    if value is None:
        return ""
    workspace = g.get("workspace")
    zone = values.zone(workspace.timezone) if workspace is not None else UTC
    return in_zone(value, zone).strftime(fmt)


def focus_attribute(page: str = "autofocus") -> str:
    """The attribute that focuses an element once the page shows: `page` on a whole page
    (`autofocus`, or "" to leave the focus alone there); in content htmx swaps in,
    data-focus-on-swap (static/js/focus-on-swap.js), which focuses it once rather than at the
    insert and again at the settle, and not if the person has moved the focus meanwhile."""
    return "data-focus-on-swap" if is_htmx() else page


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        navigation=navigation, htmx_version=HTMX_VERSION, focus_attribute=focus_attribute
    )
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.tests["kept_here"] = kept_here
    app.jinja_env.filters.update(labels.FILTERS)
