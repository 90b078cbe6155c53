"""The funnel analytics page: every number of the form funnel, the journey funnel and the
attribution checked against a small world built by hand (tests/analytics/report_world.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import FormCount
from tests import factories
from tests.analytics import report_world
from tests.analytics.report_world import HOUR

HTMX = {"HX-Request": "true"}


def _signed_in(auth, world: report_world.World) -> None:
    auth.login(factories.user(world.workspace).email)


def _url(world: report_world.World, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/p/funnels/edit/{world.funnel.id}/analytics" + (f"?{query}" if query else "")


def _row(body: str, attribute: str, value: str) -> dict[str, str]:
    """The cells of the table row marked `attribute="value"`, by their data-metric."""
    row = body.split(f'{attribute}="{value}"', 1)[1].split("</tr>", 1)[0]
    return dict(re.findall(r'data-metric="([a-z_0-9]+)"[^>]*>([^<]*)<', row))


def _seconds(body: str, activity_id: str) -> tuple[float, float]:
    row = body.split(f'data-activity="{activity_id}"', 1)[1].split("</tr>", 1)[0]
    median, p90 = re.findall(r'data-seconds="([^"]*)"', row)
    return float(median), float(p90)


def test_form_funnel_sums_the_counters_of_the_range_per_origin(client, auth):
    world = report_world.build()
    _signed_in(auth, world)

    body = client.get(_url(world)).get_data(as_text=True)

    page = _row(body, "data-origin", world.page.id)
    assert page == {
        "view": "120",  # 1,000 views 40 days ago are outside the range
        "start": "50",
        "submit": "30",
        "held": "2",
        "invalid": "5",
        "registered_new": "20",
        "registered_returning": "5",
        "confirmed": "10",
        "converted": "3",
    }
    assert _row(body, "data-origin", world.embed.id)["view"] == "10"
    assert _row(body, "data-origin", "all")["view"] == "130"
    assert _row(body, "data-origin", "all")["invalid"] == "7"
    invalid = body.split('id="invalid-table"')[1].split("</table>")[0]
    assert re.findall(r"<code>(\w+)</code></th><td class=\"num\">(\d+)", invalid) == [
        ("email", "6"),
        ("phone", "1"),
    ]


def test_journey_funnel_counts_stages_activities_and_conversions(client, auth):
    world = report_world.build()
    _signed_in(auth, world)

    body = client.get(_url(world)).get_data(as_text=True)

    stats = dict(re.findall(r'data-metric="([a-z_]+)">([^<]+)</span>', body))
    assert stats["registrations"] == "4"  # "old" was registered 40 days ago
    assert stats["converted"] == "2"
    assert stats["conversion_rate"] == "50.0%"
    assert stats["median_seconds_to_convert"] == "4 h 45 min"  # of 5 h and 4 h 30 min
    welcome, call = world.stages["Welcome"], world.stages["Call"]
    assert _row(body, "data-stage", welcome) == {
        "entered": "4",
        "waiting": "1",
        "completed": "3",
        "skipped": "0",
    }
    assert _row(body, "data-stage", call) == {
        "entered": "2",
        "waiting": "1",
        "completed": "1",
        "skipped": "1",  # j4 branched to the end past it
    }
    went = body.split(f'data-stage="{welcome}"')[1].split("</tr>")[0]
    assert re.findall(r'data-next="([^"]+)">([^:]+): <span class="num">(\d+)', went) == [
        (call, "Call", "2"),
        ("end", "End (converted)", "1"),
    ]
    profile = _row(body, "data-activity", world.activities["Profile"])
    assert profile == {
        "reached": "4",
        "done": "3",
        "completion_rate": "75.0%",
        "median_seconds": "2 h",
        "p90_seconds": "3 h 36 min",
        "open": "1",
        "overdue": "0",  # j3's Profile is due today
    }
    call_row = _row(body, "data-activity", world.activities["Call"])
    assert (call_row["reached"], call_row["done"], call_row["open"]) == ("2", "1", "1")
    assert call_row["overdue"] == "1"  # j2's call was due yesterday


def test_time_spent_is_the_median_and_p90_from_due_to_done(client, auth):
    world = report_world.build()
    _signed_in(auth, world)

    body = client.get(_url(world)).get_data(as_text=True)

    # Profile: 1 h, 2 h, 4 h. Check: 3 h, 1 h, 10 h, 30 min. Call: 2 h.
    assert _seconds(body, world.activities["Profile"]) == (2 * HOUR, 3.6 * HOUR)
    assert _seconds(body, world.activities["Check"]) == (2 * HOUR, 7.9 * HOUR)
    assert _seconds(body, world.activities["Call"]) == (2 * HOUR, 2 * HOUR)


def test_attribution_keeps_first_and_last_touch_apart(client, auth):
    world = report_world.build()
    _signed_in(auth, world)

    body = client.get(_url(world)).get_data(as_text=True)

    def table(key: str) -> list[tuple[str, str, str]]:
        part = body.split(f'data-dimension="{key}"')[1].split("</table>")[0]
        rows = re.findall(r'<tr data-value="([^"]*)">(.*?)</tr>', part, re.S)
        return [
            (value, *re.findall(r'data-metric="(?:registrations|conversions)">(\d+)<', cells))
            for value, cells in rows
        ]

    assert sorted(table("origin")) == sorted(
        [(world.embed.id, "2", "1"), (world.page.id, "2", "1")]
    )
    assert table("utm_source") == [("", "2", "1"), ("google", "2", "1")]
    assert table("last_utm_source") == [
        ("", "2", "1"),
        ("google", "1", "0"),
        ("newsletter", "1", "1"),
    ]
    assert table("last_utm_medium") == [("", "2", "1"), ("cpc", "1", "0"), ("email", "1", "1")]
    assert table("referrer_host") == [("", "3", "1"), ("a.example", "1", "1")]
    assert table("share_code") == [("", "3", "1"), ("K1", "1", "1")]


def test_origin_filter_narrows_every_section(client, auth):
    world = report_world.build()
    _signed_in(auth, world)

    body = client.get(_url(world, origin=world.embed.id)).get_data(as_text=True)

    assert _row(body, "data-origin", "all")["view"] == "10"
    assert f'data-origin="{world.page.id}"' not in body
    stats = dict(re.findall(r'data-metric="([a-z_]+)">([^<]+)</span>', body))
    assert (stats["registrations"], stats["converted"]) == ("2", "1")
    assert _row(body, "data-stage", world.stages["Welcome"])["entered"] == "2"


def test_date_range_is_inclusive_of_both_days(client, auth):
    world = report_world.build()
    _signed_in(auth, world)
    day = (world.today - timedelta(days=1)).isoformat()

    body = client.get(_url(world, **{"from": day, "to": day})).get_data(as_text=True)

    assert _row(body, "data-origin", "all")["view"] == "120"
    assert _row(body, "data-origin", "all")["start"] == "0"


def test_htmx_gets_the_report_only(client, auth):
    world = report_world.build()
    _signed_in(auth, world)

    response = client.get(_url(world, origin=world.page.id), headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="report">')
    assert "<h1>" not in body


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Must be a date written YYYY-MM-DD"),
        ({"to": "yesterday"}, "to", "Must be a date written YYYY-MM-DD"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "Must be on or after the first day"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "from", "The range may span at most 366"),
        ({"origin": "org_nope"}, "origin", "No such origin in this funnel"),
    ],
)
def test_bad_filters_are_shown_on_their_field(client, auth, args, field, message):
    world = report_world.build()
    _signed_in(auth, world)

    response = client.get(_url(world, **args))

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error">{message}' in body
    assert _row(body, "data-origin", "all")["view"] == "130"  # the default report beside it


def test_an_origin_of_another_funnel_is_refused(client, auth):
    world = report_world.build()
    other = factories.origin(factories.funnel(world.workspace, "Other"))
    _signed_in(auth, world)

    response = client.get(_url(world, origin=other.id))

    assert response.status_code == 422


def test_another_workspaces_funnel_is_not_found(client, auth):
    world = report_world.build()
    auth.login(factories.user(factories.workspace()).email)

    assert client.get(_url(world)).status_code == 404


def test_the_funnel_editor_links_to_its_analytics(client, auth):
    world = report_world.build()
    _signed_in(auth, world)

    body = client.get(f"/p/funnels/edit/{world.funnel.id}").get_data(as_text=True)

    assert f'href="/p/funnels/edit/{world.funnel.id}/analytics"' in body


def test_an_empty_funnel_has_a_report_of_zeros(client, auth):
    ws = factories.workspace()
    funnel = factories.funnel(ws, "Empty")
    auth.login(factories.user(ws).email)

    response = client.get(f"/p/funnels/edit/{funnel.id}/analytics")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No form activity counted in this range." in body
    assert 'data-metric="conversion_rate">-</span>' in body


def test_counters_of_an_event_the_report_does_not_know_are_left_out(client, auth):
    world = report_world.build()
    db.session.add(
        FormCount(
            workspace_id=world.workspace.id,
            funnel_id=world.funnel.id,
            origin_id=world.page.id,
            day=world.today,
            event="shared",
            count=7,
        )
    )
    db.session.commit()
    _signed_in(auth, world)

    body = client.get(_url(world)).get_data(as_text=True)

    assert _row(body, "data-origin", "all")["view"] == "130"


def test_journeys_of_a_funnel_without_activities_are_counted(client, auth):
    ws = factories.workspace()
    funnel = factories.funnel(ws, "Bare")
    origin = factories.origin(funnel)
    for _ in range(2):
        factories.journey(factories.lead(ws), funnel, origin)
    auth.login(factories.user(ws).email)

    body = client.get(f"/p/funnels/edit/{funnel.id}/analytics").get_data(as_text=True)

    stats = dict(re.findall(r'data-metric="([a-z_]+)">([^<]+)</span>', body))
    assert (stats["registrations"], stats["converted"]) == ("2", "0")
