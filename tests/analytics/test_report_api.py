"""`GET /api/v1/funnels/<id>/analytics`: the page's numbers, the CSV's numbers, the OpenAPI
document, and bad parameters in the API's envelope."""

from __future__ import annotations

import csv
import io
import re

import pytest

from leadsite.extensions import db
from tests import factories
from tests.analytics import report_world
from tests.analytics.report_world import HOUR


def _api(client, world: report_world.World, **args: str):
    key = factories.api_key(world.workspace)
    return client.get(
        f"/api/v1/funnels/{world.funnel.id}/analytics",
        query_string=args,
        headers={"Authorization": f"Bearer {key}"},
    )


def test_api_answers_the_report(client):
    world = report_world.build()

    response = _api(client, world)

    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["form"]["total"]["view"] == 130
    assert data["form"]["total"]["invalid_by_field"] == {"email": 6, "phone": 1}
    assert [o["name"] for o in data["form"]["origins"]] == ["Page", "Embed"]
    journeys = data["journeys"]
    assert (journeys["registrations"], journeys["converted"]) == (4, 2)
    assert journeys["conversion_rate"] == 0.5
    assert journeys["median_seconds_to_convert"] == 4.75 * HOUR
    stages = {s["name"]: s for s in journeys["stages"]}
    assert stages["Welcome"]["next"] == {world.stages["Call"]: 2, "end": 1}
    assert stages["Call"]["skipped"] == 1
    activities = {a["title"]: a for a in journeys["activities"]}
    assert activities["Check"]["median_seconds"] == 2 * HOUR
    assert activities["Check"]["p90_seconds"] == 7.9 * HOUR
    none, spring = data["attribution"]["last_utm_campaign"]
    assert none == {
        "value": None,
        "label": None,
        "registrations": 2,
        "conversions": 1,
        "conversion_rate": 0.5,
    }
    assert (spring["value"], spring["registrations"], spring["conversions"]) == ("spring", 2, 1)
    page = data["attribution"]["origin"][0]
    assert page["label"] in ("Page", "Embed") and page["registrations"] == 2


def test_api_page_and_csv_agree(client, auth):
    world = report_world.build()
    data = _api(client, world, origin=world.page.id).get_json()["data"]
    auth.login(factories.user(world.workspace).email)
    page = client.get(
        f"/p/funnels/edit/{world.funnel.id}/analytics?origin={world.page.id}"
    ).get_data(as_text=True)
    download = client.get(f"/p/funnels/edit/{world.funnel.id}/analytics.csv?origin={world.page.id}")

    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert download.mimetype == "text/csv"
    assert rows[0] == ["section", "group", "item", "metric", "value"]
    cells = {tuple(row[:4]): row[4] for row in rows[1:]}
    for event, count in data["form"]["total"].items():
        if event != "invalid_by_field":
            assert cells["form", "all origins", "", event] == str(count)
        if event not in ("invalid_by_field", "registrations"):  # the page shows new, returning
            assert f'data-metric="{event}">{count:,}<' in page.split('data-origin="all"')[1]
    for stage in data["journeys"]["stages"]:
        for metric in ("entered", "waiting", "completed", "skipped"):
            assert cells["journeys", "stage", stage["name"], metric] == str(stage[metric])
            row = page.split(f'data-stage="{stage["id"]}"')[1].split("</tr>")[0]
            assert f'data-metric="{metric}">{stage[metric]}<' in row
    for activity in data["journeys"]["activities"]:
        assert cells["journeys", "activity", activity["title"], "median_seconds"] == str(
            activity["median_seconds"] or ""
        )
        row = page.split(f'data-activity="{activity["id"]}"')[1].split("</tr>")[0]
        seconds = re.findall(r'data-seconds="([^"]*)"', row)[0]
        assert (float(seconds) if seconds else None) == activity["median_seconds"]
    for key, attribution in data["attribution"].items():
        for entry in attribution:
            item = entry["label"] or entry["value"] or "(none)"
            assert cells["attribution", key, item, "registrations"] == str(entry["registrations"])
    assert cells["journeys", "summary", "", "registrations"] == "2"


def test_csv_guards_values_a_spreadsheet_would_run(client, auth):
    world = report_world.build()
    world.journeys["j3"].utm_source = "=HYPERLINK(1)"
    db.session.commit()
    auth.login(factories.user(world.workspace).email)

    body = client.get(f"/p/funnels/edit/{world.funnel.id}/analytics.csv").get_data(as_text=True)

    assert "attribution,utm_source,'=HYPERLINK(1),registrations,1" in body


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"from": "06/12/2026"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "to"),
        ({"origin": "org_unknown"}, "origin"),
        # Days at the calendar's ends: the default start (30 days back) and the day after the
        # end would leave it (a 500 schemathesis found).
        ({"from": "2000-01-01", "to": "0001-01-01"}, "to"),
        ({"to": "0001-01-01"}, "to"),
        ({"to": "9999-12-31"}, "to"),
    ],
)
def test_bad_parameters_answer_422_on_the_parameter(client, args, field):
    world = report_world.build()

    response = _api(client, world, **args)

    body = response.get_json()
    assert response.status_code == 422
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"]["field"] == field


def test_another_workspaces_funnel_is_not_found(client):
    world = report_world.build()
    key = factories.api_key(factories.workspace())

    response = client.get(
        f"/api/v1/funnels/{world.funnel.id}/analytics", headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 404
    assert response.get_json()["code"] == "NOT_FOUND"


def test_openapi_documents_the_operation(client):
    document = client.get("/api/v1/openapi.json").get_json()

    operation = document["paths"]["/api/v1/funnels/{funnel_id}/analytics"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["funnel_id", "from", "to", "origin"]
    assert set(operation["responses"]) >= {"200", "401", "404", "422"}
    report = document["components"]["schemas"]["FunnelReportOut"]
    assert {"from", "to", "form", "journeys", "attribution"} <= set(report["properties"])


def test_attribution_sums_up_the_rarer_values_as_other(client):
    world = report_world.build()
    for index in range(25):
        journey = factories.journey(factories.lead(world.workspace), world.funnel, world.page)
        journey.share_code = f"S{index:02d}"
    db.session.commit()

    codes = _api(client, world).get_json()["data"]["attribution"]["share_code"]

    assert len(codes) == 20
    assert codes[0] == {
        "value": None,
        "label": None,
        "registrations": 3,
        "conversions": 1,
        "conversion_rate": 0.3333,
    }
    assert [c["value"] for c in codes[1:4]] == ["K1", "S00", "S01"]
    assert codes[-1]["value"] == "(other)"
    assert codes[-1]["registrations"] == 26 - 18  # K1 and S00-S16 are shown
    assert sum(c["registrations"] for c in codes) == 29
