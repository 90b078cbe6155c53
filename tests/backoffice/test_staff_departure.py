"""What a deactivated member leaves behind: their open tasks go back to the team (with a line on
each lead's timeline), funnels' tasks stop naming them, the invitations they sent are withdrawn,
and the API keys they made keep working, shown as made by someone deactivated. (Emails to them:
tests/outbox/test_staff_departure_emails.py.)"""

from __future__ import annotations

from leadsite.access import invitations
from leadsite.extensions import db
from leadsite.models import (
    Activity,
    ActivityKind,
    Event,
    Funnel,
    Invitation,
    Journey,
    JourneyStep,
    Membership,
    Role,
    StepStatus,
    User,
    Workspace,
    utcnow,
)
from leadsite.outbox import event_types
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth) -> tuple[Workspace, User]:
    ws = factories.workspace("Acme")
    admin = factories.user(ws, email="admin@example.com")
    auth.login(admin.email)
    return ws, admin


def _post(client, path: str, **kwargs: object):
    return client.post(path, data={"csrf_token": csrf_token(client, "/p/")}, **kwargs)


def _membership(user: User, ws: Workspace) -> Membership:
    db.session.expire_all()
    found = db.session.scalar(db.select(Membership).filter_by(user_id=user.id, workspace_id=ws.id))
    assert found is not None
    return found


def _deactivate(client, user: User, ws: Workspace):
    return _post(client, f"/p/settings/users/{_membership(user, ws).id}/deactivate", headers=HTMX)


def _task_funnel(ws: Workspace, assignee: User | None, title: str = "Call them") -> Funnel:
    """A funnel whose first stage is one staff task assigned to `assignee`."""
    funnel = factories.funnel(ws, name=f"Funnel of {title}")
    activity = factories.activity(factories.stage(funnel, "First"), ActivityKind.STAFF_TASK, title)
    activity.assignee_id = assignee.id if assignee else None
    db.session.commit()
    return funnel


def _open_step(funnel: Funnel, email: str) -> JourneyStep:
    """Register a lead into the funnel; its open staff task."""
    lead = factories.registered(factories.origin(funnel), email=email)
    step = db.session.scalar(
        db.select(JourneyStep)
        .join(Journey)
        .filter(Journey.lead_id == lead.id, JourneyStep.status == StepStatus.DUE)
    )
    assert step is not None
    return step


def _step(step_id: str) -> JourneyStep:
    db.session.expire_all()
    return db.session.get(JourneyStep, step_id)


def test_deactivating_a_member_gives_their_open_tasks_to_the_team_with_a_timeline_entry(
    client, auth
):
    ws, _ = _sign_in(auth)
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    funnel = _task_funnel(ws, ana)
    open_task = _open_step(funnel, "ada@example.com")
    done_task = _open_step(funnel, "bo@example.com")
    done_task.status, done_task.done_at = StepStatus.DONE, utcnow()
    db.session.commit()

    response = _deactivate(client, ana, ws)

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "1 open task now unassigned, for the team to pick up." in body
    assert "1 funnel task that named them now assigned to nobody in particular." in body
    assert _step(open_task.id).assignee_id is None
    assert _step(done_task.id).assignee_id == ana.id  # what they did stays theirs
    events = db.session.scalars(
        db.select(Event).filter_by(type=event_types.JOURNEY_TASK_UNASSIGNED)
    ).all()
    assert [event.journey_id for event in events] == [_step(open_task.id).journey_id]
    lead_page = client.get(f"/p/leads/{events[0].lead_id}").get_data(as_text=True)
    assert "Task unassigned" in lead_page
    assert "Call them: ana@example.com was deactivated; open to the team" in lead_page
    unassigned = client.get("/p/tasks?view=unassigned").get_data(as_text=True)
    assert "ada@example.com" in unassigned and "bo@example.com" not in unassigned


def test_their_tasks_in_another_workspace_stay_theirs(client, auth):
    ws, _ = _sign_in(auth)
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    other = factories.workspace("Other")
    factories.user(other, email="boss@other.example")
    db.session.add(Membership(user_id=ana.id, workspace_id=other.id, role=Role.MANAGER))
    db.session.commit()
    here = _open_step(_task_funnel(ws, ana), "ada@example.com")
    there = _open_step(_task_funnel(other, ana), "cy@example.com")

    _deactivate(client, ana, ws)

    assert _step(here.id).assignee_id is None
    assert _step(there.id).assignee_id == ana.id
    still_named = db.session.scalars(db.select(Activity).filter_by(assignee_id=ana.id)).all()
    assert [activity.stage.funnel.workspace_id for activity in still_named] == [other.id]


def test_a_lead_registered_after_the_deactivation_gets_a_task_for_the_team(client, auth):
    ws, _ = _sign_in(auth)
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    funnel = _task_funnel(ws, ana)

    _deactivate(client, ana, ws)
    later = _open_step(funnel, "late@example.com")

    assert later.assignee_id is None
    assert db.session.scalar(db.select(Activity.assignee_id)) is None


def test_reactivating_a_member_gives_them_no_task_back(client, auth):
    ws, _ = _sign_in(auth)
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    funnel = _task_funnel(ws, ana)
    step = _open_step(funnel, "ada@example.com")
    _deactivate(client, ana, ws)

    response = _post(client, f"/p/settings/users/{_membership(ana, ws).id}/activate")

    assert response.status_code == 302
    assert _membership(ana, ws).active
    assert _step(step.id).assignee_id is None
    assert db.session.scalar(db.select(Activity.assignee_id)) is None
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(Event)
            .filter_by(type=event_types.JOURNEY_TASK_UNASSIGNED)
        )
        == 1
    )


def test_the_invitations_a_deactivated_administrator_sent_are_withdrawn(client, auth):
    ws, admin = _sign_in(auth)
    ana = factories.user(ws, email="ana@example.com")
    theirs = invitations.invite(ws, "new@example.com", Role.MANAGER, ana)
    again = invitations.invite(ws, "reinvited@example.com", Role.MANAGER, ana)
    mine = invitations.invite(ws, "mine@example.com", Role.MANAGER, admin)
    db.session.commit()

    response = _deactivate(client, ana, ws)
    # Another administrator invites one of them again: that one is pending, not withdrawn.
    invitations.invite(ws, "reinvited@example.com", Role.MANAGER, admin)
    db.session.commit()

    assert "2 invitations they sent withdrawn." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invitation, theirs.id).revoked_at is not None
    assert db.session.get(Invitation, again.id).revoked_at is not None
    assert db.session.get(Invitation, mine.id).pending
    page = client.get("/p/settings/users").get_data(as_text=True)
    withdrawn = page.split("Invitations withdrawn with their sender")[1]
    assert "new@example.com" in withdrawn and "sent by ana@example.com (deactivated)" in withdrawn
    assert "reinvited@example.com" not in withdrawn and "mine@example.com" not in withdrawn
    pending = page.split("Invitations not yet accepted")[1].split("withdrawn with their sender")[0]
    assert "mine@example.com" in pending and "reinvited@example.com" in pending
    assert "new@example.com" not in pending


def test_the_api_keys_a_deactivated_administrator_made_keep_working_and_say_so(client, auth):
    from leadsite import accounts

    ws, admin = _sign_in(auth)
    ana = factories.user(ws, email="ana@example.com")
    _, secret = accounts.create_api_key(ws, "CRM sync", created_by=ana)
    accounts.create_api_key(ws, "Zapier", created_by=admin)
    db.session.commit()

    _deactivate(client, ana, ws)
    page = client.get("/p/settings/api-keys").get_data(as_text=True)
    answer = client.get("/api/v1/data-points", headers={"Authorization": f"Bearer {secret}"})

    assert "by ana@example.com (deactivated)" in page
    assert page.count("its maker is deactivated: replace it if they kept the secret") == 1
    assert "by admin@example.com</span>" in page
    assert answer.status_code == 200


def test_the_funnel_says_which_of_its_notify_emails_are_not_sent_while_deactivated(client, auth):
    ws, _ = _sign_in(auth)
    ana = factories.user(ws, role=Role.MANAGER, email="ana@example.com")
    funnel = factories.funnel(ws, notify_emails=["sales@example.com", "ana@example.com"])

    before = client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True)
    _deactivate(client, ana, ws)
    after = client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True)

    assert "Not sent while deactivated" not in before
    assert "Not sent while deactivated: ana@example.com." in after
    assert "sales@example.com" not in after.split("Not sent while deactivated")[1][:60]
