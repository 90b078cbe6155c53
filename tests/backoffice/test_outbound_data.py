"""Managers do not configure outbound data flows: webhook activities (add, change) and
redelivery are for administrators; a manager sees them read-only (issue 12)."""

from __future__ import annotations

from leadsite.extensions import db
from leadsite.models import Activity, ActivityKind, MessageStatus, OutboxMessage, Role
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
