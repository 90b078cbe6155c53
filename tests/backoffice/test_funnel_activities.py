"""Activities of a stage in the editor: every kind with its settings, reorder, delete."""

from __future__ import annotations

import threading

import pytest

from leadsite.extensions import db
from leadsite.journeys import sandbox
from leadsite.journeys.activities import validate_activity_config
from leadsite.models import Activity, ActivityKind, Origin, OriginKind, Role, Stage, Workspace
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}

# kind: (the form as sent, the config stored)
KINDS = {
    "lead_task": (
        {"description": "Tell us about your team.", "data_points": ["company", "team_size"]},
        {"description": "Tell us about your team.", "data_points": ["company", "team_size"]},
    ),
    "staff_task": ({"description": "Call within a day."}, {"description": "Call within a day."}),
    "email_lead": (
        {"subject": "Welcome, {{ lead.first_name }}", "body": "Hello {{ lead.first_name }}!"},
        {"subject": "Welcome, {{ lead.first_name }}", "body": "Hello {{ lead.first_name }}!"},
    ),
    "notify_staff": (
        {"to": "sales@example.com, Ops@Example.com", "subject": "New lead", "note": "Be quick"},
        {"to": ["sales@example.com", "Ops@Example.com"], "subject": "New lead", "note": "Be quick"},
    ),
    "webhook": ({"url": "https://hooks.example.com/x"}, {"url": "https://hooks.example.com/x"}),
    "set_status": ({"status": "qualified"}, {"status": "qualified"}),
    "add_tag": ({"tag": "vip"}, {"tag": "vip"}),
    "wait": ({"amount": "3", "unit": "hours"}, {"hours": 3}),
}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


# The template of issue 12 (it writes nothing, it only works): it made another workspace's
# registration take 14 s.
NESTED_RANGES = (
    "{% for a in range(700) %}{% for b in range(700) %}{% for c in range(700) %}"
    "{% endfor %}{% endfor %}{% endfor %}"
)


def _post(client, path: str, data: dict[str, object] | None = None, **kwargs: object):
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def _form(kind: str, title: str = "Do it", **fields: object) -> dict[str, object]:
    """The activity form as a browser sends it (fields are prefixed `activity-`)."""
    sent = {**KINDS[kind][0], **fields} if kind in KINDS else dict(fields)
    return {"kind": kind, "activity-title": title, **{f"activity-{k}": v for k, v in sent.items()}}


def _activities(stage: Stage) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [
        (a.position, a.title)
        for a in db.session.scalars(
            db.select(Activity).filter_by(stage_id=stage.id).order_by(Activity.position)
        )
    ]


@pytest.fixture
def world(auth):
    """A signed-in administrator's funnel with one empty stage and two data points."""
    ws = _sign_in(auth)
    factories.data_point(ws, "company")
    factories.data_point(ws, "team_size")
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    return ws, funnel, stage


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_added_with_its_settings(client, world, kind):
    _, funnel, stage = world
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    form = client.get(f"{path}?kind={kind}", headers=HTMX)
    response = _post(client, path, _form(kind, "The step"), headers=HTMX)

    assert form.status_code == 200
    assert (
        form.get_data(as_text=True).lstrip().startswith(f'<form id="activity-form-new-{stage.id}"')
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_data(as_text=True).lstrip().startswith('<div id="stages">')
    [activity] = db.session.scalars(db.select(Activity).filter_by(stage_id=stage.id))
    assert (activity.kind, activity.title, activity.position) == (kind, "The step", 0)
    assert activity.config == KINDS[kind][1]
    assert validate_activity_config(kind, activity.config) == []


def test_a_staff_task_is_assigned_to_a_user_of_the_workspace(client, world):
    ws, funnel, stage = world
    colleague = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    outsider = factories.user(factories.workspace(), email="eve@example.com")
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    form = client.get(f"{path}?kind=staff_task").get_data(as_text=True)
    refused = _post(client, path, _form("staff_task", assignee=outsider.id))
    response = _post(client, path, _form("staff_task", assignee=colleague.id))

    assert "ana@example.com" in form and "eve@example.com" not in form
    assert refused.status_code == 422 and "Not a valid choice." in refused.get_data(as_text=True)
    assert response.status_code == 302
    [activity] = db.session.scalars(db.select(Activity).filter_by(stage_id=stage.id))
    assert activity.assignee_id == colleague.id


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        ("email_lead", {"subject": "Hi {{ lead.first_name"}, "unexpected end of template"),
        ("email_lead", {"body": "{% if %}"}, "Does not parse"),
        (
            "email_lead",
            {"body": NESTED_RANGES},
            "Cannot be rendered within its budget: it needs more than 100,000 loop iterations",
        ),
        (
            "email_lead",
            {"body": "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"},
            "Cannot be rendered",
        ),
        (
            "email_lead",
            {"subject": "{% set s = 'x' * 99999 %}{{ s|replace('', s) }}"},
            "Cannot be rendered within its budget: the text would be longer than 100,000",
        ),
        ("notify_staff", {"to": "sales@example.com, nobody"}, "Not an email address: nobody"),
        (
            "webhook",
            {"url": "ftp://example.com"},
            "The URL must be an absolute http:// or https:// URL.",
        ),
        ("webhook", {"url": ""}, "This field is required."),
        ("set_status", {"status": " "}, "This field is required."),
        ("set_status", {"status": "interested"}, "Not a valid choice."),
        ("add_tag", {"tag": ""}, "This field is required."),
        ("wait", {"amount": "0"}, "Number must be between 1 and 100000."),
        ("wait", {"amount": "100000", "unit": "days"}, "At most ten years."),
        ("wait", {"unit": "weeks"}, "Not a valid choice."),
        (
            "lead_task",
            {"data_points": ["company", "ghost"]},
            "&#39;ghost&#39; is not a valid choice",
        ),
    ],
)
def test_invalid_settings_answer_422_with_the_error_on_the_field(
    client, world, kind, fields, message
):
    _, funnel, stage = world
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    fragment = _post(client, path, _form(kind, **fields), headers=HTMX)
    page = _post(client, path, _form(kind, **fields))

    assert fragment.status_code == page.status_code == 422
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith(f'<form id="activity-form-new-{stage.id}"')
    assert message in body, body
    assert "<html" in page.get_data(as_text=True)
    assert _activities(stage) == []


def test_a_title_is_required(client, world):
    _, funnel, stage = world
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    response = _post(client, path, _form("add_tag", title=""), headers=HTMX)

    assert response.status_code == 422 and "This field is required." in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize("kind", ["", "send_sms"])
def test_an_unknown_kind_is_a_bad_request(client, world, kind):
    _, funnel, stage = world
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    assert client.get(f"{path}?kind={kind}").status_code == 400
    assert _post(client, path, {"kind": kind, "activity-title": "x"}).status_code == 400


def test_editing_keeps_the_kind_and_changes_the_settings(client, world):
    _ws, funnel, stage = world
    activity = factories.activity(stage, ActivityKind.SET_STATUS, "Qualify", status="qualified")
    path = f"/p/funnels/edit/{funnel.id}/activities/{activity.id}"

    form = client.get(path, headers=HTMX)
    page = client.get(path)
    response = _post(client, path, _form("set_status", "Mark as customer", status="customer"))

    body = form.get_data(as_text=True)
    assert body.lstrip().startswith(f'<form id="activity-form-{activity.id}"')
    assert 'value="qualified"' in body and "<html" in page.get_data(as_text=True)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/funnels/edit/{funnel.id}#activity-{activity.id}"
    db.session.refresh(activity)
    assert (activity.kind, activity.title, activity.config) == (
        "set_status",
        "Mark as customer",
        {"status": "customer"},
    )


def test_a_wait_shows_its_duration_when_edited(client, world):
    _, funnel, stage = world
    activity = factories.activity(stage, ActivityKind.WAIT, "Pause", days=2)

    body = client.get(f"/p/funnels/edit/{funnel.id}/activities/{activity.id}").get_data(
        as_text=True
    )

    assert 'name="activity-amount" required type="number" value="2"' in body
    assert '<option selected value="days">days</option>' in body


def test_activities_move_and_are_deleted_with_contiguous_positions(client, world):
    _, funnel, stage = world
    first, second, third = (
        factories.activity(stage, ActivityKind.STAFF_TASK, title) for title in ("A", "B", "C")
    )
    base = f"/p/funnels/edit/{funnel.id}/activities"

    _post(client, f"{base}/{first.id}/move", {"direction": "down"})
    assert _activities(stage) == [(0, "B"), (1, "A"), (2, "C")]
    _post(client, f"{base}/{third.id}/move", {"direction": "down"})  # already last
    assert _activities(stage) == [(0, "B"), (1, "A"), (2, "C")]
    response = _post(client, f"{base}/{second.id}/delete", headers=HTMX)
    assert _activities(stage) == [(0, "A"), (1, "C")]

    assert "Activity “B” deleted." in response.get_data(as_text=True)
    assert _post(client, f"{base}/{first.id}/move", {"direction": "left"}).status_code == 400


def test_the_stage_list_summarises_each_activity(client, world):
    _, funnel, stage = world
    factories.activity(stage, ActivityKind.WEBHOOK, "Tell the CRM", url="https://crm.example/x")
    factories.activity(stage, ActivityKind.WAIT, "Pause", days=2)
    factories.activity(stage, ActivityKind.LEAD_TASK, "Profile", data_points=["company"])

    body = client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True)

    assert "POST https://crm.example/x" in body and "Wait 2 days" in body
    assert "Fills in: company" in body and 'data-kind="webhook"' in body


def test_a_manager_edits_activities_too(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")

    response = _post(
        client, f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new", _form("add_tag")
    )

    assert response.status_code == 302 and _activities(stage) == [(0, "Do it")]


def test_activity_ids_of_another_funnel_or_workspace_are_not_found(client, world):
    ws, funnel, _stage = world
    other_stage = factories.stage(factories.funnel(ws, "Other"), "Elsewhere")
    theirs_funnel = factories.funnel(factories.workspace(), "Theirs")
    theirs_stage = factories.stage(theirs_funnel, "Secret")
    strangers = [
        factories.activity(other_stage, ActivityKind.ADD_TAG, "Other", tag="x"),
        factories.activity(theirs_stage, ActivityKind.ADD_TAG, "Secret", tag="x"),
    ]
    base = f"/p/funnels/edit/{funnel.id}"

    for activity in strangers:
        assert client.get(f"{base}/activities/{activity.id}").status_code == 404
        for suffix, data in (
            ("", _form("add_tag")),
            ("/move", {"direction": "up"}),
            ("/delete", {}),
        ):
            assert (
                _post(client, f"{base}/activities/{activity.id}{suffix}", data).status_code == 404
            )
    for stranger_stage in (other_stage, theirs_stage):
        path = f"{base}/stages/{stranger_stage.id}/activities/new"
        assert client.get(f"{path}?kind=add_tag").status_code == 404
        assert _post(client, path, _form("add_tag")).status_code == 404
    theirs_path = f"/p/funnels/edit/{theirs_funnel.id}/stages/{theirs_stage.id}/activities/new"
    assert _post(client, theirs_path, _form("add_tag")).status_code == 404
    db.session.expire_all()
    assert [a.title for a in strangers] == ["Other", "Secret"]
    assert _activities(other_stage) == [(0, "Other")] and _activities(theirs_stage) == [
        (0, "Secret")
    ]


def test_a_template_is_tried_at_save_without_holding_the_write_lock(app, client, world):
    """Trying a template may take up to its budget: registrations must not wait for it."""
    _, funnel, stage = world
    elsewhere = factories.origin(factories.funnel(factories.workspace()), OriginKind.API)
    elsewhere_id = elsewhere.id
    outcomes: list[object] = []

    def register_elsewhere() -> None:
        with app.app_context():
            try:
                origin = db.session.get(Origin, elsewhere_id)
                result = register(origin, LeadInput(email="bo@example.com"), RegistrationContext())
                outcomes.append(result.created)
            except Exception as error:  # reported by the assertion below
                outcomes.append(error)
            finally:
                db.session.remove()

    render = sandbox.render

    def render_while_another_registers(source: str, *args: object) -> str:
        if not outcomes:
            thread = threading.Thread(target=register_elsewhere)
            thread.start()
            thread.join(30)
        return render(source, *args)

    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"
    body = "Hello {{ lead.first_name }}, this text is tried once when saved."
    data = {**_form("email_lead", body=body), "csrf_token": csrf_token(client, "/p/")}
    db.session.rollback()  # the save starts with no transaction, as in production
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sandbox, "render", render_while_another_registers)
        response = client.post(path, data=data)

    assert outcomes == [True]
    assert response.status_code == 302
    assert _activities(stage) == [(0, "Do it")]
