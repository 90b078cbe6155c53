"""Managers do not configure outbound data flows: webhook activities (add, change),
redelivery and emails to addresses outside the workspace are for administrators (issue 12)."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import Activity, ActivityKind, Funnel, MessageStatus, OutboxMessage, Role
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
HOOK = "https://collector.example/steal"


def _world(auth, role: Role):
    ws = factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    return ws, funnel, stage


def _post(client, path: str, data: dict[str, object] | None = None, **kwargs: object):
    token = csrf_token(client, "/p/")
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def _webhook_form(url: str = HOOK) -> dict[str, str]:
    return {"kind": "webhook", "activity-title": "Send it", "activity-url": url}


def _webhooks() -> list[Activity]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Activity).filter_by(kind=ActivityKind.WEBHOOK)))


def test_a_manager_cannot_add_a_webhook_activity(client, auth):
    _, funnel, stage = _world(auth, Role.MANAGER)
    new_url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    form = client.get(f"{new_url}?kind=webhook")
    posted = _post(client, new_url, _webhook_form())
    by_htmx = _post(client, new_url, _webhook_form(), headers=HTMX)
    editor = client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True)

    assert form.status_code == posted.status_code == by_htmx.status_code == 403
    assert "administrators" in posted.get_data(as_text=True)
    assert _webhooks() == []
    kinds = editor.split(f'id="kind-{stage.id}"')[1].split("</select>")[0]
    assert 'value="webhook"' not in kinds and 'value="add_tag"' in kinds


def test_a_manager_sees_a_webhook_activity_read_only_and_cannot_change_it(client, auth):
    _, funnel, stage = _world(auth, Role.MANAGER)
    activity = factories.activity(
        stage, ActivityKind.WEBHOOK, "Post to CRM", url="https://crm.example/x"
    )
    edit_url = f"/p/funnels/edit/{funnel.id}/activities/{activity.id}"

    page = client.get(edit_url)
    changed = _post(client, edit_url, {"activity-title": "Post", "activity-url": HOOK})

    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "https://crm.example/x" in body
    assert '<fieldset class="plain" disabled>' in body and "Save activity" not in body
    assert changed.status_code == 403
    [stored] = _webhooks()
    assert stored.config == {"url": "https://crm.example/x"} and stored.title == "Post to CRM"


def test_an_administrator_adds_and_changes_a_webhook_activity(client, auth):
    _, funnel, stage = _world(auth, Role.ADMINISTRATOR)
    new_url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    added = _post(client, new_url, _webhook_form("https://crm.example/a"))
    [activity] = _webhooks()
    changed = _post(
        client,
        f"/p/funnels/edit/{funnel.id}/activities/{activity.id}",
        {"activity-title": "Send it", "activity-url": "https://crm.example/b"},
    )

    assert added.status_code == changed.status_code == 302
    assert _webhooks()[0].config == {"url": "https://crm.example/b"}


def test_a_manager_sees_deliveries_but_cannot_redeliver(client, auth):
    ws, _, _ = _world(auth, Role.MANAGER)
    lead = factories.lead(ws)
    attempt = factories.delivery_attempt(lead, status_code=503, error="Service Unavailable")

    page = client.get(f"/p/leads/{lead.id}").get_data(as_text=True)
    response = _post(client, f"/p/leads/{lead.id}/deliveries/{attempt.message_id}/redeliver")

    deliveries = page.split('id="lead-deliveries"')[1].split("</section>")[0]
    assert "503" in deliveries and "Redeliver" not in deliveries
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(OutboxMessage, attempt.message_id).status == MessageStatus.DEAD


def test_a_manager_notifies_only_the_workspaces_users_of_a_new_funnels_leads(client, auth):
    ws, _, _ = _world(auth, Role.MANAGER)
    factories.user(ws, role=Role.MANAGER, email="colleague@example.com")
    settings = {"name": "Leads", "status": "active", "identifier": "email"}
    settings["on_duplicate"] = "update"

    outside = _post(
        client,
        "/p/funnels/new",
        {**settings, "notify_emails": "Colleague@example.com, x@evil.example"},
    )
    inside = _post(client, "/p/funnels/new", {**settings, "notify_emails": "colleague@example.com"})

    assert outside.status_code == 422 and "x@evil.example" in outside.get_data(as_text=True)
    db.session.expire_all()
    [funnel] = db.session.scalars(db.select(Funnel).filter_by(workspace_id=ws.id, name="Leads"))
    assert inside.status_code == 302 and funnel.notify_emails == ["colleague@example.com"]


def test_a_manager_keeps_the_addresses_an_administrator_set_but_adds_no_other(client, auth):
    _, funnel, _ = _world(auth, Role.MANAGER)
    funnel.notify_emails = ["partner@agency.example"]
    db.session.commit()
    settings = {"name": "Renamed", "status": "active", "identifier": "email"}
    settings["on_duplicate"] = "update"

    kept = _post(
        client,
        f"/p/funnels/edit/{funnel.id}",
        {**settings, "notify_emails": "partner@agency.example"},
    )
    added = _post(
        client,
        f"/p/funnels/edit/{funnel.id}",
        {**settings, "notify_emails": "partner@agency.example, x@evil.example"},
    )

    assert kept.status_code == 302 and added.status_code == 422
    db.session.expire_all()
    assert db.session.get(Funnel, funnel.id).notify_emails == ["partner@agency.example"]


def test_a_managers_notify_staff_activity_writes_only_to_the_workspaces_users(client, auth):
    ws, funnel, stage = _world(auth, Role.MANAGER)
    factories.user(ws, role=Role.MANAGER, email="colleague@example.com")
    new_url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    def form(to: str) -> dict[str, str]:
        return {"kind": "notify_staff", "activity-title": "Tell them", "activity-to": to}

    outside = _post(client, new_url, form("x@evil.example"))
    inside = _post(client, new_url, form("colleague@example.com"))

    assert outside.status_code == 422 and "x@evil.example" in outside.get_data(as_text=True)
    assert inside.status_code == 302
    db.session.expire_all()
    [activity] = db.session.scalars(db.select(Activity).filter_by(kind=ActivityKind.NOTIFY_STAFF))
    assert activity.config["to"] == ["colleague@example.com"]
    edited = _post(
        client,
        f"/p/funnels/edit/{funnel.id}/activities/{activity.id}",
        {"activity-title": "Tell them", "activity-to": "colleague@example.com, x@evil.example"},
    )
    assert edited.status_code == 422


def test_an_administrator_notifies_any_address(client, auth):
    _, funnel, stage = _world(auth, Role.ADMINISTRATOR)
    new_url = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"

    response = _post(
        client,
        new_url,
        {"kind": "notify_staff", "activity-title": "Tell", "activity-to": "partner@agency.example"},
    )

    assert response.status_code == 302
