"""The stages of a funnel in the editor: add, edit with an entry condition, reorder, delete."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.journeys.conditions import evaluate
from leadsite.models import Funnel, JourneyStatus, Role, Stage, Workspace
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _post(client, path: str, data: dict[str, str] | None = None, **kwargs: object):
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def _stages(funnel: Funnel) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [
        (stage.position, stage.name)
        for stage in db.session.scalars(
            db.select(Stage).filter_by(funnel_id=funnel.id).order_by(Stage.position)
        )
    ]


def _rules(*rows: tuple[str, str, str], match: str = "all", name: str = "Qualify") -> dict:
    data = {"stage-name": name, "stage-delay_minutes": "0", "stage-match": match}
    for index, (field, op, value) in enumerate(rows):
        data[f"stage-rules-{index}-field"] = field
        data[f"stage-rules-{index}-op"] = op
        data[f"stage-rules-{index}-value"] = value
    return data


def test_adding_a_stage_puts_it_last(client, auth):
    ws = _sign_in(auth)
    funnel = factories.staged_funnel(ws)

    response = _post(client, f"/p/funnels/edit/{funnel.id}/stages", {"new-stage-name": "Won"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/p/funnels/edit/{funnel.id}#stage-stg_")
    assert _stages(funnel) == [(0, "Welcome"), (1, "Follow-up"), (2, "Won")]


def test_adding_a_stage_with_htmx_answers_the_stage_list(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(
        client, f"/p/funnels/edit/{funnel.id}/stages", {"new-stage-name": "Welcome"}, headers=HTMX
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="stages">') and "<html" not in body
    assert "<h3>Welcome</h3>" in body and "Stage “Welcome” added." in body
    assert "Every journey enters this stage." in body


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_stage_needs_a_name(client, auth, name):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)

    response = _post(
        client, f"/p/funnels/edit/{funnel.id}/stages", {"new-stage-name": name}, headers=HTMX
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith('<div id="stages">') and 'aria-invalid="true"' in body
    assert _stages(funnel) == []


def test_the_stage_form_is_a_page_without_htmx_and_a_form_with_it(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.data_point(ws, "team_size", label="Team size")
    stage = factories.stage(
        funnel,
        "Qualify",
        {"match": "any", "rules": [{"field": "data.team_size", "op": "gt", "value": 10}]},
    )
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}"

    full = client.get(path)
    partial = client.get(path, headers=HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith(f'<form id="stage-form-{stage.id}"') and "<html" not in body
    assert '<option selected value="data.team_size">Team size</option>' in body
    assert '<option selected value="gt">is greater than</option>' in body
    assert 'name="stage-rules-0-value" type="text" value="10"' in body
    assert '<option selected value="any">' in body
    assert 'name="stage-rules-1-field"' in body  # an empty row to add a rule in


def test_a_condition_is_saved_from_its_rows_and_holds_for_the_right_leads(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.data_point(ws, "team_size")
    stage = factories.stage(funnel, "Qualify")

    response = _post(
        client,
        f"/p/funnels/edit/{funnel.id}/stages/{stage.id}",
        {
            **_rules(
                ("data.team_size", "gte", "10"), ("email", "contains", "@acme."), ("", "eq", "")
            ),
            "stage-delay_minutes": "30",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="stages">')
    assert (
        "Entered when Team size is at least 10 and email contains @acme.; otherwise skipped."
        in body
    )
    db.session.refresh(stage)
    assert stage.delay_minutes == 30
    assert stage.condition == {
        "match": "all",
        "rules": [
            {"field": "data.team_size", "op": "gte", "value": 10},
            {"field": "email", "op": "contains", "value": "@acme."},
        ],
    }
    assert evaluate(stage.condition, factories.lead(ws, email="x@acme.com"))[0] is False


def test_any_of_and_valueless_operators(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Tagged")

    _post(
        client,
        f"/p/funnels/edit/{funnel.id}/stages/{stage.id}",
        _rules(("tags", "eq", "vip"), ("phone", "set", "ignored"), match="any"),
    )

    db.session.refresh(stage)
    assert stage.condition == {
        "match": "any",
        "rules": [{"field": "tags", "op": "eq", "value": "vip"}, {"field": "phone", "op": "set"}],
    }
    assert evaluate(stage.condition, factories.lead(ws, tags=["vip"]))[0] is True


def test_removing_every_rule_removes_the_condition(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    stage = factories.stage(
        funnel, "Q", {"rules": [{"field": "status", "op": "eq", "value": "new"}]}
    )

    _post(client, f"/p/funnels/edit/{funnel.id}/stages/{stage.id}", _rules(("", "eq", "new")))

    db.session.refresh(stage)
    assert stage.condition is None


def test_add_a_rule_returns_the_form_with_one_more_row_and_saves_nothing(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Q")
    data = {**_rules(("status", "eq", "new")), "add_rule": "1"}

    response = _post(client, f"/p/funnels/edit/{funnel.id}/stages/{stage.id}", data, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<form id="stage-form-{stage.id}"')
    assert 'name="stage-rules-1-field"' in body and 'name="stage-rules-2-field"' not in body
    db.session.refresh(stage)
    assert stage.condition is None and stage.name == "Q"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            _rules(("counter", "gt", "many")),
            "“is greater than” needs a number or a YYYY-MM-DD date.",
        ),
        (_rules(("data.missing", "eq", "x")), "Unknown field &#39;data.missing&#39;."),
        (_rules(("status", "eq", "")), "“is” needs a text, number or true/false value."),
        (_rules(("status", "between", "1")), "Not a valid choice."),
        (_rules(("status", "eq", "x"), name=""), "This field is required."),
        ({**_rules(), "stage-delay_minutes": "-5"}, "Number must be between 0 and 525600."),
        ({**_rules(), "stage-delay_minutes": "soon"}, "Not a valid integer value."),
        ({**_rules(), "stage-match": "most"}, "Not a valid choice."),
    ],
)
def test_an_invalid_stage_answers_422_with_the_error_on_its_row(client, auth, data, message):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Kept")
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}"

    fragment = _post(client, path, data, headers=HTMX)
    page = _post(client, path, data)

    assert fragment.status_code == page.status_code == 422
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith(f'<form id="stage-form-{stage.id}"') and message in body
    assert "<html" in page.get_data(as_text=True) and message in page.get_data(as_text=True)
    db.session.refresh(stage)
    assert stage.name == "Kept" and stage.condition is None


def test_stages_move_up_and_down_and_stay_contiguous(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    first, second, third = (factories.stage(funnel, name) for name in ("A", "B", "C"))
    path = f"/p/funnels/edit/{funnel.id}/stages"

    _post(client, f"{path}/{third.id}/move", {"direction": "up"})
    assert _stages(funnel) == [(0, "A"), (1, "C"), (2, "B")]
    response = _post(client, f"{path}/{first.id}/move", {"direction": "down"}, headers=HTMX)
    assert _stages(funnel) == [(0, "C"), (1, "A"), (2, "B")]
    _post(client, f"{path}/{third.id}/move", {"direction": "up"})  # already first: no change
    assert _stages(funnel) == [(0, "C"), (1, "A"), (2, "B")]

    assert response.get_data(as_text=True).lstrip().startswith('<div id="stages">')
    assert _post(client, f"{path}/{second.id}/move", {"direction": "sideways"}).status_code == 400


def test_deleting_a_stage_asks_first_then_renumbers_the_rest(client, auth):
    ws = _sign_in(auth)
    funnel = factories.staged_funnel(ws)
    factories.stage(funnel, "Last")
    welcome = funnel.stages[0]
    lead = factories.lead(ws)
    journey = factories.journey(lead, funnel)
    journey.current_stage_id, journey.status = welcome.id, JourneyStatus.ACTIVE
    db.session.commit()
    path = f"/p/funnels/edit/{funnel.id}/stages/{welcome.id}/delete"

    confirm = client.get(path)
    response = _post(client, path, headers=HTMX)

    assert confirm.status_code == 200
    assert "1 active journeys are in this stage now" in confirm.get_data(as_text=True)
    assert response.status_code == 200
    assert "Stage “Welcome” deleted." in response.get_data(as_text=True)
    assert _stages(funnel) == [(0, "Follow-up"), (1, "Last")]


def test_a_manager_edits_stages_too(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    funnel = factories.funnel(ws)

    response = _post(client, f"/p/funnels/edit/{funnel.id}/stages", {"new-stage-name": "Welcome"})

    assert response.status_code == 302 and _stages(funnel) == [(0, "Welcome")]


def test_stage_ids_of_another_funnel_or_workspace_are_not_found(client, auth):
    ws = _sign_in(auth)
    mine = factories.funnel(ws, "Mine")
    other_funnel = factories.funnel(ws, "Other")
    theirs = factories.funnel(factories.workspace(), "Theirs")
    strangers = [factories.stage(other_funnel, "Elsewhere"), factories.stage(theirs, "Secret")]

    for stage in strangers:
        for path, method in [
            (f"/p/funnels/edit/{mine.id}/stages/{stage.id}", "get"),
            (f"/p/funnels/edit/{mine.id}/stages/{stage.id}", "post"),
            (f"/p/funnels/edit/{mine.id}/stages/{stage.id}/move", "post"),
            (f"/p/funnels/edit/{mine.id}/stages/{stage.id}/delete", "get"),
            (f"/p/funnels/edit/{mine.id}/stages/{stage.id}/delete", "post"),
        ]:
            response = (
                client.get(path)
                if method == "get"
                else _post(client, path, {**_rules(), "direction": "up"})
            )
            assert response.status_code == 404, path
    for path in (
        f"/p/funnels/edit/{theirs.id}/stages",
        f"/p/funnels/edit/{theirs.id}/stages/{strangers[1].id}",
    ):
        assert client.get(path).status_code == 404
    assert (
        _post(client, f"/p/funnels/edit/{theirs.id}/stages", {"new-stage-name": "X"}).status_code
        == 404
    )
    assert _stages(other_funnel) == [(0, "Elsewhere")] and _stages(theirs) == [(0, "Secret")]


def test_the_stages_block_is_for_htmx_and_browsers_go_to_the_edit_page(client, auth):
    ws = _sign_in(auth)
    funnel = factories.staged_funnel(ws)

    partial = client.get(f"/p/funnels/edit/{funnel.id}/stages", headers=HTMX)
    full = client.get(f"/p/funnels/edit/{funnel.id}/stages")

    assert partial.get_data(as_text=True).lstrip().startswith('<div id="stages">')
    assert full.status_code == 302
    assert full.headers["Location"] == f"/p/funnels/edit/{funnel.id}#stages"
