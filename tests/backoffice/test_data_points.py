"""Data points in the back-office: list, create, edit and delete, with and without htmx."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import DataPoint, DataPointType, Role, Workspace
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
VALID = {
    "name": "team_size",
    "label": "Team size",
    "type": "number",
    "choices": "",
    "help_text": "",
}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _post(client, path: str, data: dict[str, str], **kwargs: object):
    token = csrf_token(client, "/p/data-points")
    return client.post(path, data={**data, "csrf_token": token}, **kwargs)


def _points(ws: Workspace) -> dict[str, DataPoint]:
    db.session.expire_all()
    return {
        p.name: p for p in db.session.scalars(db.select(DataPoint).filter_by(workspace_id=ws.id))
    }


def _in_use(ws: Workspace, journeys: int) -> DataPoint:
    """A data point that `journeys` journeys hold a value of."""
    point = factories.data_point(ws, "company")
    funnel = factories.funnel(ws)
    for index in range(journeys):
        lead = factories.lead(ws, email=f"user{index}@example.com")
        factories.journey_value(factories.journey(lead, funnel), point, f"Company {index}")
    return point


def test_the_page_is_whole_without_htmx_and_a_block_with_it(client, auth):
    ws = _sign_in(auth)
    factories.data_point(ws, "plan", type=DataPointType.CHOICE, choices=["Starter", "Growth"])

    full = client.get("/p/data-points")
    partial = client.get("/p/data-points", headers=HTMX)

    page, fragment = full.get_data(as_text=True), partial.get_data(as_text=True)
    assert full.status_code == partial.status_code == 200
    assert "<html" in page and "<code>plan</code>" in page and "Starter, Growth" in page
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="data-points"')
    assert 'id="data-point-form"' in fragment
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in partial.headers["Vary"]


def test_an_empty_list_says_how_to_start(client, auth):
    _sign_in(auth)

    body = client.get("/p/data-points").get_data(as_text=True)

    assert "No data points yet" in body and "New data point" in body


def test_create_without_javascript_redirects_to_the_list(client, auth):
    ws = _sign_in(auth)

    response = _post(client, "/p/data-points", VALID)

    assert response.status_code == 302
    assert response.headers["Location"] == "/p/data-points"
    point = _points(ws)["team_size"]
    assert (point.label, point.type, point.choices) == ("Team size", "number", [])
    page = client.get("/p/data-points").get_data(as_text=True)
    assert "Data point “Team size” added." in page and "<code>team_size</code>" in page


def test_create_with_htmx_swaps_the_list_and_flashes(client, auth):
    ws = _sign_in(auth)

    response = _post(
        client,
        "/p/data-points",
        {
            **VALID,
            "name": "Plan",
            "label": "Plan",
            "type": "choice",
            "choices": "Starter\r\n\r\n Growth \r\n",
        },
        headers=HTMX,
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<div id="data-points"')
    assert "<code>plan</code>" in body  # names are lower-cased
    assert 'hx-swap-oob="true"' in body and "Data point “Plan” added." in body
    assert response.headers["HX-Replace-Url"] == "/p/data-points"
    assert 'value="Plan"' not in body  # the form is empty again
    assert _points(ws)["plan"].choices == ["Starter", "Growth"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "team size"}, "Use lower-case letters, digits and _"),
        ({"name": "2nd_plan"}, "Use lower-case letters, digits and _"),
        ({"name": "Company"}, "A data point named “company” already exists."),
        ({"label": "  "}, "This field is required."),
        ({"type": "colour"}, "Not a valid choice."),
        ({"type": "choice", "choices": "Only one"}, "List at least two choices, one per line."),
        ({"type": "choice", "choices": "Yes\nyes"}, "“yes” is listed twice"),
        ({"help_text": "x" * 301}, "Field cannot be longer than 300 characters."),
    ],
)
def test_invalid_input_answers_422_with_the_error_on_the_field(client, auth, changes, message):
    ws = _sign_in(auth)
    factories.data_point(ws, "company")

    page = _post(client, "/p/data-points", {**VALID, **changes})
    fragment = _post(client, "/p/data-points", {**VALID, **changes}, headers=HTMX)

    assert page.status_code == fragment.status_code == 422
    assert message in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="data-point-form"')
    assert message in body and 'aria-invalid="true"' in body and "<html" not in body
    assert set(_points(ws)) == {"company"}


def test_edit_changes_the_data_point(client, auth):
    ws = _sign_in(auth)
    point = factories.data_point(ws, "plan", type=DataPointType.CHOICE, choices=["A", "B"])

    form = client.get(f"/p/data-points/{point.id}/edit", headers=HTMX)
    response = _post(
        client,
        f"/p/data-points/{point.id}/edit",
        {
            "name": "tier",
            "label": "Tier",
            "type": "text",
            "choices": "A\nB",
            "help_text": "Which one",
        },
        follow_redirects=True,
    )

    assert form.status_code == 200
    assert form.get_data(as_text=True).lstrip().startswith('<form id="data-point-form"')
    assert 'value="plan"' in form.get_data(as_text=True) and "A\nB</textarea>" in form.get_data(
        as_text=True
    )
    assert response.status_code == 200
    assert "Data point “Tier” saved." in response.get_data(as_text=True)
    db.session.refresh(point)
    assert (point.name, point.label, point.type) == ("tier", "Tier", "text")
    assert point.choices == []  # only a choice data point keeps choices
    assert point.help_text == "Which one"


def test_editing_may_keep_the_same_name(client, auth):
    ws = _sign_in(auth)
    point = factories.data_point(ws, "company")

    response = _post(
        client, f"/p/data-points/{point.id}/edit", {**VALID, "name": "company"}, headers=HTMX
    )

    assert response.status_code == 200
    assert _points(ws)["company"].label == "Team size"


def test_name_and_type_of_a_data_point_in_use_are_fixed(client, auth):
    ws = _sign_in(auth)
    point = _in_use(ws, journeys=2)  # a text data point named company
    path = f"/p/data-points/{point.id}/edit"

    form = client.get(path).get_data(as_text=True)
    renamed = _post(client, path, {**VALID, "name": "firm", "type": "text"})
    retyped = _post(client, path, {**VALID, "name": "company", "type": "number"})
    relabelled = _post(client, path, {**VALID, "name": "company", "type": "text"})

    assert "readonly" in form and "Fixed: 2 journeys hold values of it." in form
    assert '<option selected value="text">Text</option></select>' in form  # the only type
    assert renamed.status_code == retyped.status_code == 422
    assert "2 journeys hold values of this data point" in renamed.get_data(as_text=True)
    assert "Not a valid choice." in retyped.get_data(as_text=True)
    assert relabelled.status_code == 302
    kept = _points(ws)["company"]
    assert (kept.type, kept.label) == ("text", "Team size")


def test_a_name_the_api_allowed_can_stay_when_editing(client, auth):
    ws = _sign_in(auth)
    point = factories.data_point(ws, "Team Size")  # the API takes any name without edge spaces

    response = _post(client, f"/p/data-points/{point.id}/edit", {**VALID, "name": "Team Size"})

    assert response.status_code == 302
    assert _points(ws)["Team Size"].label == "Team size"


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", "edit"), ("post", "edit"), ("get", "delete"), ("post", "delete")]
)
def test_another_workspaces_data_point_is_404(client, auth, method, suffix):
    _sign_in(auth)
    theirs = factories.data_point(factories.workspace("Theirs"), "secret")
    path = f"/p/data-points/{theirs.id}/{suffix}"

    if method == "get":
        response = client.get(path)
    else:
        response = _post(client, path, {**VALID, "name": "stolen"})

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(DataPoint, theirs.id).name == "secret"


def test_the_list_shows_only_this_workspaces_data_points(client, auth):
    ws = _sign_in(auth)
    factories.data_point(ws, "mine")
    factories.data_point(factories.workspace("Theirs"), "theirs")

    body = client.get("/p/data-points").get_data(as_text=True)

    assert "<code>mine</code>" in body and "theirs" not in body


def test_the_same_name_is_fine_in_another_workspace(client, auth):
    ws = _sign_in(auth)
    factories.data_point(factories.workspace("Theirs"), "team_size")

    response = _post(client, "/p/data-points", VALID)

    assert response.status_code == 302
    assert "team_size" in _points(ws)


def test_a_manager_can_manage_data_points(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)

    created = _post(client, "/p/data-points", VALID)
    point = _points(ws)["team_size"]
    deleted = _post(client, f"/p/data-points/{point.id}/delete", {})

    assert created.status_code == deleted.status_code == 302
    assert _points(ws) == {}


def test_a_post_without_csrf_token_is_refused(client, auth):
    ws = _sign_in(auth)

    response = client.post("/p/data-points", data=VALID)

    assert response.status_code == 400
    assert _points(ws) == {}


def test_the_edit_page_keeps_data_points_current_in_the_navigation(client, auth):
    ws = _sign_in(auth)
    point = factories.data_point(ws, "company")

    body = client.get(f"/p/data-points/{point.id}/edit").get_data(as_text=True)

    nav = body.split("</nav>")[0]
    assert 'aria-current="page">Data points</a>' in nav
    assert nav.count("aria-current") == 1
