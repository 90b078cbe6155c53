"""Stakeholder tasks in the back-office: built in the funnel editor, followed on the lead page,
a new link sent, a failed one retried."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import (
    Activity,
    DataPoint,
    DataPointType,
    JourneyData,
    Role,
    StakeholderLink,
    StepStatus,
)
from tests import factories
from tests.conftest import csrf_token
from tests.journeys.stakeholder_world import (
    emailed_token,
    emails_to,
    registered,
    stakeholder_funnel,
    task,
)

HTMX = {"HX-Request": "true"}
ACCOUNTANT = "books@ledger.example"


def _sign_in(auth, ws):
    auth.login(factories.user(ws, role=Role.MANAGER).email)


def _post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(
        path, data={**(data or {}), "csrf_token": csrf_token(client, "/p/")}, **kwargs
    )


def test_the_editor_adds_a_stakeholder_task_with_its_settings(client, auth):
    ws = factories.workspace()
    _sign_in(auth, ws)
    factories.data_point(ws, "accountant_email", type=DataPointType.EMAIL, label="Accountant")
    factories.data_point(ws, "company", label="Company")
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Review")
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    form = client.get(f"{path}?kind=stakeholder_task").get_data(as_text=True)
    neither = {"kind": "stakeholder_task", "activity-title": "Approve", "activity-valid_days": "14"}
    refused = _post(client, path, neither)
    response = _post(
        client,
        path,
        {
            "kind": "stakeholder_task",
            "activity-title": "Approve the contract",
            "activity-email_data_point": "accountant_email",
            "activity-action": "approve",
            "activity-instructions": "Check the figures.",
            "activity-show_data_points": ["company"],
            "activity-valid_days": "7",
        },
        headers=HTMX,
    )

    assert "Task for a stakeholder" in form
    assert '<option value="accountant_email">Accountant</option>' in form
    refused_body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Give either an email address or the data point holding one." in refused_body
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "Approves or rejects: the address in accountant_email" in response.get_data(as_text=True)
    [activity] = db.session.scalars(db.select(Activity).filter_by(stage_id=stage.id))
    assert activity.config == {
        "email_data_point": "accountant_email",
        "action": "approve",
        "instructions": "Check the figures.",
        "show_data_points": ["company"],
        "valid_days": 7,
    }


def test_the_lead_page_follows_the_link_from_sent_to_answered(client, auth):
    ws = factories.workspace()
    funnel = stakeholder_funnel(ws, email=ACCOUNTANT)
    journey = registered(funnel)
    token = emailed_token(ACCOUNTANT)
    _sign_in(auth, ws)
    page = f"/p/leads/{journey.lead_id}"

    sent = client.get(page).get_data(as_text=True)
    # Held, as a test or a request may hold it: the page must read it from the database,
    # not as it was loaded before the stakeholder opened it (`conftest.FreshSessionClient`).
    link = db.session.scalar(db.select(StakeholderLink).filter_by(journey_id=journey.id))
    client.get(f"/s/{token}")
    opened = client.get(page).get_data(as_text=True)
    client.post(
        f"/s/{token}", data={"step": task(journey).id, "decision": "reject", "comment": "Wrong VAT"}
    )
    answered = client.get(page).get_data(as_text=True)

    assert f"Asked <strong>{ACCOUNTANT}</strong>" in sent and "link sent" in sent
    assert "Send a new link" in sent
    assert "link opened" in opened and link.opened_at is not None
    assert "answered" in answered and 'data-decision="rejected"' in answered
    assert "Wrong VAT" in answered and "Send a new link" not in answered


def test_send_a_new_link_emails_the_stakeholder_again(client, auth):
    ws = factories.workspace()
    journey = registered(stakeholder_funnel(ws, email=ACCOUNTANT))
    first = emailed_token(ACCOUNTANT)
    _sign_in(auth, ws)

    response = _post(
        client,
        f"/p/leads/{journey.lead_id}/steps/{task(journey).id}/stakeholder-link",
        headers=HTMX,
    )

    assert response.status_code == 200
    assert (
        f"A new link to “Approve the contract” was emailed to {ACCOUNTANT}."
        in response.get_data(as_text=True)
    )
    assert len(emails_to(ACCOUNTANT)) == 2
    assert client.get(f"/s/{first}").status_code == 410
    assert client.get(f"/s/{emailed_token(ACCOUNTANT)}").status_code == 200


def test_retry_of_a_step_failed_for_want_of_an_address_sends_the_link(client, auth):
    ws = factories.workspace()
    journey = registered(stakeholder_funnel(ws, email_data_point="accountant_email"))
    assert task(journey).status == StepStatus.FAILED
    _sign_in(auth, ws)
    retry = f"/p/leads/{journey.lead_id}/steps/{task(journey).id}/retry"

    page = client.get(f"/p/leads/{journey.lead_id}").get_data(as_text=True)
    again = _post(client, retry)
    failed_again = task(journey).status, emails_to(ACCOUNTANT)
    point = db.session.scalar(
        db.select(DataPoint).filter_by(workspace_id=ws.id, name="accountant_email")
    )
    db.session.add(JourneyData(journey_id=journey.id, data_point_id=point.id, value=ACCOUNTANT))
    db.session.commit()
    fixed = _post(client, retry)

    assert "no stakeholder email: the data point accountant_email is empty" in page
    assert again.status_code == 302 and failed_again == (StepStatus.FAILED, [])
    assert fixed.status_code == 302
    assert task(journey).status == StepStatus.DUE
    assert len(emails_to(ACCOUNTANT)) == 1


def test_another_workspaces_step_is_a_404(client, auth):
    journey = registered(stakeholder_funnel(factories.workspace(), email=ACCOUNTANT))
    ws = factories.workspace()
    _sign_in(auth, ws)
    lead = factories.lead(ws)

    response = _post(client, f"/p/leads/{lead.id}/steps/{task(journey).id}/stakeholder-link")

    assert response.status_code == 404
    assert len(emails_to(ACCOUNTANT)) == 1


def test_a_manager_names_only_the_workspaces_users_as_a_fixed_stakeholder(client, auth):
    ws = factories.workspace()
    _sign_in(auth, ws)  # a manager
    factories.user(ws, email="colleague@acme.example")
    stage = factories.stage(factories.funnel(ws), "Review")
    path = f"/p/funnels/edit/{stage.funnel_id}/stages/{stage.id}/activities/new"
    form = {"kind": "stakeholder_task", "activity-title": "Approve", "activity-valid_days": "14"}

    outside = _post(client, path, {**form, "activity-email": ACCOUNTANT})
    member = _post(client, path, {**form, "activity-email": "colleague@acme.example"})

    assert outside.status_code == 422
    assert "Managers may add only the workspace&#39;s users here" in outside.get_data(as_text=True)
    assert member.status_code == 302
    [activity] = db.session.scalars(db.select(Activity).filter_by(stage_id=stage.id))
    assert activity.config["email"] == "colleague@acme.example"
