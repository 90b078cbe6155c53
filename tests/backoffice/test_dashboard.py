"""The dashboard: totals, registrations per day per funnel (SVG), leads by status, top origins."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadsite.backoffice.dashboard_chart import MAX_SERIES, build_chart, last_days, nice_step
from leadsite.extensions import db
from leadsite.models import Journey, LeadStatus, OriginKind, Role, Workspace, utcnow
from tests import factories

HTMX = {"HX-Request": "true"}
NEW_YORK = ZoneInfo("America/New_York")


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _registered(ws: Workspace, funnel, at: datetime, origin=None, **lead: object) -> Journey:
    journey = factories.journey(factories.lead(ws, **lead), funnel, origin)
    journey.created_at = at
    db.session.commit()
    return journey


def _day_row(body: str, day: date) -> list[int]:
    """The counts of the chart's table row for `day`, one per funnel."""
    row = body.split(f'<th scope="row">{day.isoformat()}</th>')[1].split("</tr>")[0]
    return [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)]


def test_totals_count_this_workspace_only(client, auth):
    ws = _sign_in(auth)
    active = factories.funnel(ws, "Active")
    factories.funnel(ws, "Draft", status="draft")
    factories.origin(active)
    closed = factories.origin(active, OriginKind.PAGE)
    closed.active = False
    factories.lead(ws, created_at=utcnow() - timedelta(days=60))
    factories.lead(ws)
    other = factories.workspace()
    factories.lead(other)
    factories.funnel(other)
    db.session.commit()

    body = client.get("/p/").get_data(as_text=True)

    stats = re.findall(r'<span class="stat-value">([^<]+)(?:<small> / (\d+)</small>)?</span>', body)
    assert stats == [("2", ""), ("1", ""), ("1", "2"), ("1", "")]


def test_registrations_are_counted_per_funnel_and_local_day(client, auth):
    ws = factories.workspace()
    ws.timezone = "America/New_York"
    db.session.commit()
    _sign_in(auth, ws)
    webinar, trial = factories.funnel(ws, "Webinar"), factories.funnel(ws, "Trial")
    today = utcnow().astimezone(NEW_YORK).date()
    yesterday = today - timedelta(days=1)
    evening = datetime.combine(yesterday, time(22, 30), NEW_YORK)  # after midnight in UTC
    _registered(ws, webinar, evening)
    _registered(ws, webinar, evening + timedelta(minutes=5))
    _registered(ws, trial, datetime.combine(today, time(0, 10), NEW_YORK))
    _registered(ws, trial, datetime.combine(today - timedelta(days=40), time(12), NEW_YORK))

    full = client.get("/p/")
    body = full.get_data(as_text=True)

    assert full.status_code == 200 and "<svg" in body and "<polyline" in body
    legend = body.split('<ul class="legend">')[1].split("</ul>")[0]
    assert legend.index("Webinar") < legend.index("Trial")  # the busiest first
    assert _day_row(body, yesterday) == [2, 0] and _day_row(body, today) == [0, 1]
    assert "3 registrations in 30 days" in body
    assert f'<th scope="row">{(today - timedelta(days=30)).isoformat()}</th>' not in body


def test_leads_by_status_and_top_origins(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, "Onboarding")
    web, page = factories.origin(funnel), factories.origin(funnel, OriginKind.PAGE)
    now = utcnow()
    for _ in range(3):
        _registered(ws, funnel, now, web, status="new")
    _registered(ws, funnel, now, page, status="customer")
    _registered(ws, funnel, now - timedelta(days=45), page, status="customer")

    body = client.get("/p/").get_data(as_text=True)

    statuses = body.split('id="status-title"')[1].split("</section>")[0]
    assert statuses.index(" New</span>") < statuses.index(" Customer</span>")
    assert '<td class="num">3</td>' in statuses and '<td class="num">2</td>' in statuses
    assert 'href="/p/leads?status=customer"' in statuses
    origins = body.split('id="origins-title"')[1].split("</section>")[0]
    assert origins.index(web.name) < origins.index(page.name)
    assert '<td class="num">3</td>' in origins and '<td class="num">1</td>' in origins


def test_statuses_show_the_workspace_s_names_not_their_keys(client, auth):
    """A status renamed in Settings is shown by its name (and colour), not its stored key."""
    ws = _sign_in(auth)
    status = db.session.scalar(db.select(LeadStatus).filter_by(workspace_id=ws.id, key="new"))
    status.name = "Fresh lead"
    lead = _registered(ws, factories.funnel(ws, "Onboarding"), utcnow(), status="new").lead
    db.session.commit()

    dashboard = client.get("/p/").get_data(as_text=True)
    lead_page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)

    statuses = dashboard.split('id="status-title"')[1].split("</section>")[0]
    assert " Fresh lead</span>" in statuses and ">new<" not in statuses
    header = lead_page.split('id="lead-head"')[1].split("</p>")[0]
    section = lead_page.split('id="lead-status"')[1].split("</section>")[0]
    for part in (header, section):
        assert " Fresh lead</span>" in part and ">new<" not in part


def test_an_empty_workspace_says_so(client, auth):
    _sign_in(auth)

    body = client.get("/p/").get_data(as_text=True)

    assert "No registrations in the last 30 days." in body and "<polyline" not in body
    assert "No leads yet." in body


def test_the_dashboard_is_a_block_for_htmx_and_open_to_managers(client, auth):
    _sign_in(auth, role=Role.MANAGER)

    full = client.get("/p/")
    partial = client.get("/p/", headers=HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    fragment = partial.get_data(as_text=True)
    assert "<html" not in fragment and "<h1>Dashboard</h1>" in fragment


def test_the_chart_scales_to_round_ticks_and_groups_small_funnels():
    days = last_days(date(2026, 3, 31), 30)
    per_funnel = {f"F{index}": {days[-1]: index + 1} for index in range(MAX_SERIES + 2)}

    chart = build_chart(days, per_funnel)

    assert (days[0], days[-1]) == (date(2026, 3, 2), date(2026, 3, 31))
    assert [s.name for s in chart.series][-1] == "Other funnels"
    assert len(chart.series) == MAX_SERIES and chart.series[0].name == f"F{MAX_SERIES + 1}"
    assert chart.series[-1].total == 1 + 2 + 3  # F0, F1, F2 summed
    assert [value for _, value in chart.y_ticks] == [0, 2, 4, 6, 8]
    assert chart.x_ticks[-1][1:] == ("Mar 31", "end")
    assert [nice_step(v) for v in (0, 0.5, 1, 3, 7, 11, 60)] == [1, 1, 1, 5, 10, 20, 100]
