"""A stage's decisions in the funnel editor: branches saved in order, forward only, precise
errors; the wait-until activity form; the API shows both."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Activity, ActivityKind, DataPoint, Stage, Workspace, utcnow
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
SPAM = {"field": "status", "op": "eq", "value": "spam"}
LARGE = {"match": "all", "rules": [{"field": "data.team_size", "op": "gt", "value": 10}]}


@pytest.fixture
def world(client, auth):
    """A signed-in administrator's funnel: Qualify, Sales review, Self-serve, Onboard."""
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    factories.data_point(ws, "team_size", type="number")
    funnel = factories.funnel(ws)
    stages = {name: factories.stage(funnel, name) for name in ("Qualify", "Sales review")}
    stages.update({name: factories.stage(funnel, name) for name in ("Self-serve", "Onboard")})
    return funnel, stages


def post(client, path: str, data: dict[str, str], **kwargs):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/p/")}, **kwargs)


def decisions_url(funnel, stage) -> str:
    return f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/decisions"


def branch(index: int, to: str, *rule: str, label: str = "") -> dict[str, str]:
    prefix = f"decisions-branches-{index}"
    data = {f"{prefix}-label": label, f"{prefix}-match": "all", f"{prefix}-to": to}
    if rule:
        field, op, value = rule
        data.update(
            {
                f"{prefix}-rules-0-field": field,
                f"{prefix}-rules-0-op": op,
                f"{prefix}-rules-0-value": value,
            }
        )
    return data


def fresh(stage: Stage) -> Stage:
    db.session.expire_all()
    return db.session.get(Stage, stage.id)


def test_decisions_are_saved_in_order_with_otherwise_and_shown_in_the_stage_list(client, world):
    funnel, stages = world
    qualify = stages["Qualify"]
    data = {
        **branch(0, stages["Sales review"].id, "data.team_size", "gt", "10", label="Large"),
        **branch(1, "end", "status", "eq", "spam"),
        "decisions-otherwise": stages["Self-serve"].id,
    }

    response = post(client, decisions_url(funnel, qualify), data, headers=HTMX)

    assert response.status_code == 200
    assert fresh(qualify).decisions == [
        {"condition": LARGE, "to": stages["Sales review"].id, "label": "Large"},
        {"condition": {"match": "all", "rules": [SPAM]}, "to": "end"},
    ]
    assert fresh(qualify).otherwise == stages["Self-serve"].id
    body = response.get_data(as_text=True)
    assert "1. If Team size is greater than 10 → “Sales review” (Large)" in body
    assert "2. If status is spam → the end" in body
    assert "Otherwise → “Self-serve”" in body


def test_a_branch_keeps_reading_a_data_point_archived_since(client, world):
    funnel, stages = world
    qualify = stages["Qualify"]
    qualify.decisions = [{"condition": LARGE, "to": stages["Sales review"].id}]
    workspace = db.session.get(Workspace, funnel.workspace_id)
    factories.data_point(workspace, "old_size", type="number").archived_at = utcnow()
    for point in db.session.scalars(db.select(DataPoint).filter_by(name="team_size")):
        point.archived_at = utcnow()
    db.session.commit()
    data = {**branch(0, stages["Sales review"].id, "data.team_size", "gt", "20")}

    page = client.get(decisions_url(funnel, qualify)).get_data(as_text=True)
    response = post(client, decisions_url(funnel, qualify), data, headers=HTMX)

    assert 'value="data.team_size"' in page and 'value="data.old_size"' not in page
    assert response.status_code == 200
    assert fresh(qualify).decisions[0]["condition"]["rules"][0]["value"] == 20


def test_a_branch_back_to_an_earlier_stage_is_refused(client, world):
    funnel, stages = world
    data = {
        **branch(0, stages["Qualify"].id, "data.team_size", "gt", "10"),
        "decisions-otherwise": stages["Qualify"].id,
    }

    response = post(client, decisions_url(funnel, stages["Sales review"]), data, headers=HTMX)

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.count("Choose a stage after this one: journeys only go forward.") == 2
    assert fresh(stages["Sales review"]).decisions is None


@pytest.mark.parametrize(
    ("rule", "to", "message"),
    [
        ((), "end", "Give the branch a rule"),
        (("data.team_size", "gt", "many"), "end", "“is greater than” needs a number"),
        (("data.nothing", "eq", "x"), "end", "Unknown field"),
        (("status", "eq", "x"), "", "Choose where this branch goes."),
        (("status", "eq", "x"), "stg_gone", "That stage no longer exists"),
    ],
)
def test_a_bad_branch_is_refused_on_its_field(client, world, rule, to, message):
    funnel, stages = world
    data = {**branch(0, to, *rule), "decisions-otherwise": ""}

    response = post(client, decisions_url(funnel, stages["Qualify"]), data, headers=HTMX)

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(stages["Qualify"]).decisions is None


def test_add_remove_and_move_buttons_change_the_form_without_saving(client, world):
    funnel, stages = world
    url = decisions_url(funnel, stages["Qualify"])
    two = {
        **branch(0, "end", "status", "eq", "a"),
        **branch(1, stages["Onboard"].id, "status", "eq", "b"),
    }

    added = post(client, url, {**two, "edit": "add"}, headers=HTMX).get_data(as_text=True)
    moved = post(client, url, {**two, "edit": "up:1"}, headers=HTMX).get_data(as_text=True)
    removed = post(client, url, {**two, "edit": "remove:0"}, headers=HTMX).get_data(as_text=True)

    assert "Branch 3" in added
    assert moved.index('value="b"') < moved.index('value="a"')
    assert 'value="a"' not in removed and "Branch 2" not in removed
    assert fresh(stages["Qualify"]).decisions is None


def test_the_page_works_without_javascript(client, world):
    funnel, stages = world
    url = decisions_url(funnel, stages["Qualify"])
    assert "Add a branch" in client.get(url).get_data(as_text=True)

    response = post(client, url, {"decisions-otherwise": "end"})

    assert response.status_code == 302
    assert fresh(stages["Qualify"]).otherwise == "end"


def test_the_wait_until_form_saves_its_condition_timeout_and_target(client, world):
    funnel, stages = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stages['Qualify'].id}/activities/new"
    form = client.get(url + "?kind=wait_until").get_data(as_text=True)
    assert "Sales review" in form and "Wait until" in form

    response = post(
        client,
        url,
        {
            "kind": "wait_until",
            "activity-title": "Wait for the size",
            "activity-match": "all",
            "activity-rules-0-field": "data.team_size",
            "activity-rules-0-op": "set",
            "activity-amount": "2",
            "activity-unit": "days",
            "activity-on_timeout": stages["Onboard"].id,
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    activity = db.session.scalars(db.select(Activity)).one()
    assert activity.kind == ActivityKind.WAIT_UNTIL
    assert activity.config == {
        "condition": {"match": "all", "rules": [{"field": "data.team_size", "op": "set"}]},
        "timeout": {"days": 2},
        "on_timeout": stages["Onboard"].id,
    }
    assert "Until team_size is set, at most 2 days (then “Onboard”)" in response.get_data(
        as_text=True
    )


def test_the_wait_until_form_refuses_no_condition_and_a_backward_target(client, world):
    funnel, stages = world
    url = f"/p/funnels/edit/{funnel.id}/stages/{stages['Sales review'].id}/activities/new"

    response = post(
        client,
        url,
        {
            "kind": "wait_until",
            "activity-title": "Wait",
            "activity-amount": "2",
            "activity-unit": "days",
            "activity-on_timeout": stages["Qualify"].id,
        },
        headers=HTMX,
    )

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Choose what to wait for." in body
    assert "Choose a stage after this one: journeys only go forward." in body
    assert db.session.scalars(db.select(Activity)).first() is None


def test_the_api_shows_a_stages_decisions(client, world):
    funnel, stages = world
    stages["Qualify"].decisions = [{"condition": LARGE, "to": stages["Sales review"].id}]
    stages["Qualify"].otherwise = "end"
    db.session.commit()
    key = factories.api_key(db.session.get(Workspace, funnel.workspace_id))

    data = client.get(
        f"/api/v1/funnels/{funnel.id}", headers={"Authorization": f"Bearer {key}"}
    ).json["data"]

    assert data["stages"][0]["decisions"] == [{"condition": LARGE, "to": stages["Sales review"].id}]
    assert data["stages"][0]["otherwise"] == "end"
    assert data["stages"][1]["decisions"] == [] and data["stages"][1]["otherwise"] is None


def test_deleting_a_stage_a_branch_goes_to_says_so_first(client, world):
    funnel, stages = world
    stages["Qualify"].decisions = [{"condition": LARGE, "to": stages["Self-serve"].id}]
    stages["Sales review"].otherwise = stages["Self-serve"].id
    db.session.commit()

    page = client.get(f"/p/funnels/edit/{funnel.id}/stages/{stages['Self-serve'].id}/delete")

    assert "Decisions of Qualify, Sales review send journeys here" in page.get_data(as_text=True)
