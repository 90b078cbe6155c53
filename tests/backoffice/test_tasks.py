"""My tasks: open staff tasks of my workspace, whose they are, overdue first, done, skipped and
reassigned inline; failed steps that need someone; the dashboard's due tasks."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import (
    ActivityKind,
    DataPoint,
    Event,
    Funnel,
    Journey,
    JourneyData,
    JourneyStatus,
    JourneyStep,
    Role,
    StepStatus,
    User,
    Workspace,
    utcnow,
)
from leadsite.outbox import event_types
from tests import factories
from tests.conftest import csrf_token
from tests.journeys.stakeholder_world import emails_to, registered, stakeholder_funnel, task

HTMX = {"HX-Request": "true"}
ACCOUNTANT = "books@ledger.example"


def _sign_in(
    auth, ws: Workspace | None = None, role: Role = Role.MANAGER
) -> tuple[Workspace, User]:
    ws = ws or factories.workspace()
    person = factories.user(ws, role=role)
    auth.login(person.email)
    return ws, person


def _task(
    ws: Workspace,
    title: str = "Call them",
    assignee: User | None = None,
    funnel: Funnel | None = None,
    stages: int = 1,
    **config: object,
) -> JourneyStep:
    """A lead registered into a funnel whose first stage is one staff task (and `stages - 1`
    more stages of one staff task each); returns the open step."""
    funnel = funnel or factories.funnel(ws, name=f"Funnel of {title}")
    for number in range(stages):
        stage = factories.stage(funnel, f"Stage {number + 1}")
        name = title if number == 0 else f"{title} ({number + 1})"
        activity = factories.activity(stage, ActivityKind.STAFF_TASK, name, **config)
        activity.assignee_id = assignee.id if assignee else None
    db.session.commit()
    lead = factories.registered(
        factories.origin(funnel), email=f"{title.lower().replace(' ', '.')}@example.com"
    )
    step = db.session.scalar(
        db.select(JourneyStep)
        .join(Journey)
        .filter(Journey.lead_id == lead.id, JourneyStep.status == StepStatus.DUE)
    )
    assert step is not None and step.kind == ActivityKind.STAFF_TASK
    return step


def _post(client, path: str, data: dict[str, str] | None = None, htmx: bool = True):
    token = csrf_token(client, "/p/")
    return client.post(
        path, data={"csrf_token": token, **(data or {})}, headers=HTMX if htmx else None
    )


def _rows(body: str) -> list[str]:
    """The step ids of the task rows, in the order shown."""
    return re.findall(r'<tr id="task-(step_[^"]+)"', body)


def _count(body: str, view: str) -> int:
    match = re.search(rf'data-count="{view}">(\d+)<', body)
    assert match, f"no count for {view}"
    return int(match.group(1))


def test_the_list_shows_only_my_workspaces_open_staff_tasks(client, auth):
    ws, _ = _sign_in(auth)
    mine = _task(ws, "Call Ada")
    _task(factories.workspace(), "Call Bob")
    lead_task_funnel = factories.funnel(ws, name="Self-serve")
    factories.activity(
        factories.stage(lead_task_funnel, "Profile"), ActivityKind.LEAD_TASK, "Fill in"
    )
    factories.registered(factories.origin(lead_task_funnel), email="lead-task@example.com")

    response = client.get("/p/tasks")

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _rows(body) == [mine.id]
    assert "Call Ada" in body and "call.ada@example.com" in body and "Funnel of Call Ada" in body
    assert "Call Bob" not in body and "Fill in" not in body
    assert 'href="/p/tasks"' in body  # the navigation links to My tasks


def test_another_workspaces_step_is_not_found(client, auth):
    ws, _ = _sign_in(auth)
    mine = _task(ws, "Call Ada")
    theirs = _task(factories.workspace(), "Call Bob")

    assert _post(client, f"/p/tasks/{mine.id}/assign", {"assignee": "me"}).status_code == 200

    for path, data in (
        (f"/p/tasks/{theirs.id}/done", {}),
        (f"/p/tasks/{theirs.id}/skip", {}),
        (f"/p/tasks/{theirs.id}/assign", {"assignee": "me"}),
    ):
        assert _post(client, path, data).status_code == 404

    db.session.expire_all()
    step = db.session.get(JourneyStep, theirs.id)
    assert (step.status, step.assignee_id) == (StepStatus.DUE, None)


def test_tabs_show_mine_unassigned_and_everyones(client, auth):
    ws, me = _sign_in(auth)
    colleague = factories.user(ws, role=Role.MANAGER)
    mine = _task(ws, "Mine", assignee=me)
    nobodys = _task(ws, "Nobodys")
    theirs = _task(ws, "Theirs", assignee=colleague)

    def shown(query: str) -> set[str]:
        return set(_rows(client.get(f"/p/tasks{query}").get_data(as_text=True)))

    body = client.get("/p/tasks").get_data(as_text=True)
    assert set(_rows(body)) == {mine.id, nobodys.id}
    assert [_count(body, view) for view in ("todo", "mine", "unassigned", "all")] == [2, 1, 1, 3]
    assert shown("?view=mine") == {mine.id}
    assert shown("?view=unassigned") == {nobodys.id}
    assert shown("?view=all") == {mine.id, nobodys.id, theirs.id}
    assert shown("?view=nonsense") == {mine.id, nobodys.id}  # an unknown view: the default


def test_the_funnel_filter_narrows_the_list_and_its_counts(client, auth):
    ws, _ = _sign_in(auth)
    sales = factories.funnel(ws, name="Sales")
    first = _task(ws, "Call Ada", funnel=sales)
    _task(ws, "Call Bob")

    body = client.get(f"/p/tasks?funnel={sales.id}").get_data(as_text=True)
    other_workspace = factories.funnel(factories.workspace(), name="Elsewhere")
    ignored = client.get(f"/p/tasks?funnel={other_workspace.id}").get_data(as_text=True)

    assert _rows(body) == [first.id] and _count(body, "all") == 1
    assert len(_rows(ignored)) == 2  # another workspace's funnel filters nothing out


def test_overdue_tasks_come_first_then_by_due_date(client, auth):
    ws, _ = _sign_in(auth)
    later = _task(ws, "In three days")
    overdue = _task(ws, "Yesterday")
    soon = _task(ws, "Tomorrow")
    now = utcnow()
    later.due_at, overdue.due_at, soon.due_at = (
        now + timedelta(days=3),
        now - timedelta(days=1),
        now + timedelta(days=1),
    )
    db.session.commit()

    body = client.get("/p/tasks").get_data(as_text=True)

    assert _rows(body) == [overdue.id, soon.id, later.id]
    first_row = body.split(f'id="task-{overdue.id}"')[1].split("</tr>")[0]
    assert "overdue" in first_row
    assert "overdue" not in body.split(f'id="task-{soon.id}"')[1].split("</tr>")[0]


def test_a_staff_task_is_due_within_its_activitys_days(client, auth):
    ws, _ = _sign_in(auth)
    before = utcnow()

    step = _task(ws, "Call back", due_within_days=3)
    plain = _task(ws, "Call now")

    assert timedelta(days=3) <= step.due_at - before < timedelta(days=3, minutes=1)
    assert plain.due_at - before < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("0", "Number must be between 1 and 365."),
        ("400", "Number must be between 1 and 365."),
        ("x", "Not a valid integer value."),
    ],
)
def test_the_staff_task_form_refuses_a_due_date_out_of_range(client, auth, days, message):
    ws, _ = _sign_in(auth, role=Role.ADMINISTRATOR)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Qualify")
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    response = _post(
        client,
        path,
        {"kind": "staff_task", "activity-title": "Call", "activity-due_within_days": days},
    )

    body = response.get_data(as_text=True)
    assert response.status_code == 422
    field = body.split('id="activity-due_within_days"')[1].split("</div>")[0]
    assert message in field


def test_the_staff_task_form_keeps_its_due_days(client, auth):
    ws, _ = _sign_in(auth, role=Role.ADMINISTRATOR)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Qualify")
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    response = _post(
        client,
        path,
        {"kind": "staff_task", "activity-title": "Call", "activity-due_within_days": "2"},
    )

    assert response.status_code in (200, 302, 303)
    db.session.expire_all()
    assert stage.activities[0].config == {"due_within_days": 2}


def test_done_inline_removes_the_row_and_moves_the_journey_on(client, auth):
    ws, me = _sign_in(auth)
    step = _task(ws, "Call Ada", stages=2)
    other = _task(ws, "Call Bob")

    response = _post(client, f"/p/tasks/{step.id}/done", {"view": "todo"})

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="task-{step.id}"' not in body  # nothing takes the row's place
    assert 'id="task-tabs"' in body and 'hx-swap-oob="true"' in body
    assert _count(body, "todo") == 2  # the next stage's task is open now, and Bob's
    assert "“Call Ada” marked done." in body
    db.session.expire_all()
    journey = db.session.get(Journey, step.journey_id)
    done = db.session.get(JourneyStep, step.id)
    assert done.status == StepStatus.DONE and done.result == {"actor_id": me.id}
    assert journey.current_stage.name == "Stage 2"
    event = db.session.scalar(
        db.select(Event).filter_by(journey_id=journey.id, type=event_types.JOURNEY_STEP_COMPLETED)
    )
    assert event.payload["step"]["id"] == step.id and event.payload["actor_id"] == me.id
    shown = _rows(client.get("/p/tasks").get_data(as_text=True))
    assert step.id not in shown and other.id in shown and len(shown) == 2


def test_done_on_the_last_task_inline_says_there_is_nothing_left(client, auth):
    """The last row went and left the table's header alone on the page, with no word of it,
    until a reload showed "Nothing to do here"."""
    ws, _ = _sign_in(auth)
    first, last = _task(ws, "Call Ada"), _task(ws, "Call Bob")

    kept = _post(client, f"/p/tasks/{first.id}/done", {"view": "todo"}).get_data(as_text=True)
    emptied = _post(client, f"/p/tasks/{last.id}/done", {"view": "todo"}).get_data(as_text=True)

    assert "Nothing to do here" not in kept and 'id="task-list"' not in kept
    assert '<div id="task-list" hx-swap-oob="true">' in emptied
    assert "Nothing to do here." in emptied and _count(emptied, "todo") == 0
    assert emptied.count('id="task-tabs"') == 1  # the tabs come once, inside the list


def test_the_last_failed_step_skipped_inline_takes_needs_attention_away(client, auth):
    ws, _ = _sign_in(auth)
    failed = _two_failed_welcome_steps(ws)

    one_left = _post(client, f"/p/tasks/{failed[0].id}/skip").get_data(as_text=True)
    none_left = _post(client, f"/p/tasks/{failed[1].id}/skip").get_data(as_text=True)

    assert 'id="task-attention"' not in one_left
    assert '<section id="task-attention" hx-swap-oob="delete">' in none_left


def test_skip_inline_skips_the_task_and_completes_the_journey(client, auth):
    ws, _ = _sign_in(auth)
    step = _task(ws, "Call Ada")

    response = _post(client, f"/p/tasks/{step.id}/skip")

    assert response.status_code == 200
    assert "“Call Ada” skipped." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(JourneyStep, step.id).status == StepStatus.SKIPPED
    journey = db.session.get(Journey, step.journey_id)
    assert journey.status == JourneyStatus.COMPLETED
    assert db.session.scalar(
        db.select(Event).filter_by(journey_id=journey.id, type=event_types.JOURNEY_COMPLETED)
    )


def test_without_javascript_done_redirects_back_to_the_list(client, auth):
    ws, _ = _sign_in(auth)
    step = _task(ws, "Call Ada")
    sales = db.session.get(Journey, step.journey_id).funnel_id

    response = _post(
        client, f"/p/tasks/{step.id}/done", {"view": "all", "funnel": sales}, htmx=False
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/tasks?view=all&funnel={sales}"
    assert "“Call Ada” marked done." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_a_finished_task_is_refused_with_a_message(client, auth):
    ws, _ = _sign_in(auth)
    step = _task(ws, "Call Ada")
    _post(client, f"/p/tasks/{step.id}/done")

    again = _post(client, f"/p/tasks/{step.id}/skip")
    assign = _post(client, f"/p/tasks/{step.id}/assign", {"assignee": "me"})

    assert again.status_code == 409 and assign.status_code == 409
    assert "not open now" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(JourneyStep, step.id).status == StepStatus.DONE


def test_only_staff_tasks_are_done_here(client, auth):
    ws, _ = _sign_in(auth)
    funnel = factories.funnel(ws)
    factories.activity(factories.stage(funnel, "Profile"), ActivityKind.LEAD_TASK, "Fill in")
    lead = factories.registered(factories.origin(funnel), email="ada@example.com")
    step = db.session.scalar(
        db.select(JourneyStep).join(Journey).filter(Journey.lead_id == lead.id)
    )

    response = _post(client, f"/p/tasks/{step.id}/done")

    assert response.status_code == 409
    assert "Only staff tasks" in response.get_data(as_text=True)


def test_a_task_is_assigned_to_me_to_a_colleague_and_to_nobody(client, auth):
    ws, _me = _sign_in(auth)
    colleague = factories.user(ws, role=Role.MANAGER, email="grace@example.com")
    step = _task(ws, "Call Ada")

    to_me = _post(client, f"/p/tasks/{step.id}/assign", {"assignee": "me", "view": "todo"})
    mine_count = _count(to_me.get_data(as_text=True), "mine")
    to_colleague = _post(client, f"/p/tasks/{step.id}/assign", {"assignee": colleague.id})
    body = to_colleague.get_data(as_text=True)

    assert to_me.status_code == 200 and mine_count == 1
    assert to_colleague.status_code == 200
    assert f'id="task-{step.id}"' in body  # the row again, showing its new assignee
    assert f'<option value="{colleague.id}" selected>grace@example.com</option>' in body
    assert "assigned to grace@example.com" in body
    assert _count(body, "mine") == 0 and _count(body, "all") == 1
    db.session.expire_all()
    assert db.session.get(JourneyStep, step.id).assignee_id == colleague.id

    _post(client, f"/p/tasks/{step.id}/assign", {"assignee": ""})
    db.session.expire_all()
    assert db.session.get(JourneyStep, step.id).assignee_id is None


def test_a_task_is_not_assigned_to_someone_outside_the_workspace(client, auth):
    ws, _ = _sign_in(auth)
    stranger = factories.user(factories.workspace())
    step = _task(ws, "Call Ada")

    response = _post(client, f"/p/tasks/{step.id}/assign", {"assignee": stranger.id})

    assert response.status_code == 422
    assert "Choose a member of this workspace" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(JourneyStep, step.id).assignee_id is None


def test_load_more_pages_through_tasks_by_due_date(client, auth, monkeypatch):
    monkeypatch.setattr("leadsite.backoffice.tasks.PAGE_SIZE", 2)
    ws, _ = _sign_in(auth)
    steps = [_task(ws, f"Task {n}") for n in range(3)]
    for days, step in enumerate(steps):
        step.due_at = utcnow() + timedelta(days=days)
    db.session.commit()

    first = client.get("/p/tasks").get_data(as_text=True)
    more = re.search(r'href="(/p/tasks\?after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(more, headers=HTMX).get_data(as_text=True)
    bad = client.get("/p/tasks?after=nonsense")

    assert _rows(first) == [steps[0].id, steps[1].id]
    assert _rows(second) == [steps[2].id] and "Load more" not in second
    assert bad.status_code == 400 and "not valid" in bad.get_data(as_text=True)


def test_failed_steps_need_attention_and_are_retried_or_skipped(client, auth):
    ws, _ = _sign_in(auth)
    failed = _two_failed_welcome_steps(ws)

    body = client.get("/p/tasks").get_data(as_text=True)
    retried = _post(client, f"/p/tasks/{failed[0].id}/retry")
    skipped = _post(client, f"/p/tasks/{failed[1].id}/skip")

    attention = body.split('id="task-attention"')[1].split("</section>")[0]
    assert "Needs attention" in body and "the template does not render" in attention
    assert set(_rows(attention)) == {failed[0].id, failed[1].id}
    assert retried.status_code == 200 and skipped.status_code == 200
    db.session.expire_all()
    assert db.session.get(JourneyStep, failed[0].id).status == StepStatus.DUE
    assert db.session.get(JourneyStep, failed[1].id).status == StepStatus.SKIPPED
    assert 'id="task-attention"' not in client.get("/p/tasks").get_data(as_text=True)
    assert _post(client, f"/p/tasks/{failed[0].id}/retry").status_code == 409


def test_the_dashboard_shows_my_overdue_and_due_today_tasks(client, auth):
    ws, me = _sign_in(auth)
    colleague = factories.user(ws, role=Role.MANAGER)
    overdue = _task(ws, "Call Ada", assignee=me)
    _task(ws, "Call Bob")
    _task(ws, "Call Cy", assignee=colleague)
    next_week = _task(ws, "Call Dee", due_within_days=7)
    overdue.due_at = utcnow() - timedelta(days=2)
    db.session.commit()

    body = client.get("/p/").get_data(as_text=True)

    card = body.split('id="due-tasks"')[1].split("</section>")[0]
    assert "1 overdue" in card and "1 due today" in card
    assert card.index("Call Ada") < card.index("Call Bob")
    assert "Call Cy" not in card  # a colleague's
    assert next_week.title in card  # among the first few, though not due yet
    assert 'href="/p/tasks"' in card


def test_retry_of_a_failed_stakeholder_step_emails_a_new_link(client, auth):
    ws, _ = _sign_in(auth)
    funnel = stakeholder_funnel(ws, email_data_point="accountant_email")
    journey = registered(funnel)
    assert task(journey).status == StepStatus.FAILED  # no address yet
    point = db.session.scalar(db.select(DataPoint).filter_by(name="accountant_email"))
    db.session.add(JourneyData(journey_id=journey.id, data_point_id=point.id, value=ACCOUNTANT))
    db.session.commit()

    response = _post(client, f"/p/tasks/{task(journey).id}/retry")

    assert response.status_code == 200
    assert task(journey).status == StepStatus.DUE
    assert len(emails_to(ACCOUNTANT)) == 1


def _two_failed_welcome_steps(ws) -> list[JourneyStep]:
    """Ada's and Bob's welcome email steps, failed (a template that does not render)."""
    funnel = factories.funnel(ws, name="Welcome")
    factories.activity(factories.stage(funnel, "Hello"), ActivityKind.EMAIL_LEAD, "Welcome email")
    failed = []
    for email in ("ada@example.com", "bob@example.com"):
        lead = factories.registered(factories.origin(funnel), email=email)
        step = db.session.scalar(
            db.select(JourneyStep).join(Journey).filter(Journey.lead_id == lead.id)
        )
        step.status, step.result = StepStatus.FAILED, {"error": "the template does not render"}
        failed.append(step)
    db.session.commit()
    return failed
