"""Creating a funnel and editing its settings at /p/funnels/edit/<the API's id>."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from leadsite.extensions import db
from leadsite.models import Funnel, Role, Workspace
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
SETTINGS = {
    "name": "Webinar sign-ups",
    "description": "People who register for the webinar.",
    "status": "active",
    "starts_at": "2026-03-01T09:00",
    "ends_at": "2026-03-31T18:30",
    "identifier": "phone",
    "on_duplicate": "reject",
    "double_opt_in": "y",
    "notify_emails": "Sales@Example.com, ops@example.com\nsales@example.com",
}


def _sign_in(auth, ws: Workspace | None = None, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = ws or factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _post(client, path: str, data: dict[str, str], **kwargs: object):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/p/")}, **kwargs)


def _funnels(ws: Workspace) -> list[Funnel]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Funnel).filter_by(workspace_id=ws.id)))


def test_the_list_offers_new_funnel_and_links_each_to_its_edit_page(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, "Onboarding")

    body = client.get("/p/funnels").get_data(as_text=True)

    assert 'href="/p/funnels/new"' in body and "New funnel" in body
    assert f'href="/p/funnels/edit/{funnel.id}"' in body


def test_the_new_funnel_page_is_whole_without_htmx_and_its_form_with_it(client, auth):
    _sign_in(auth)

    full = client.get("/p/funnels/new")
    partial = client.get("/p/funnels/new", headers=HTMX)

    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    fragment = partial.get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<form id="funnel-form"')
    assert '<option selected value="draft">' in fragment  # a new funnel starts as a draft


def test_creating_a_funnel_opens_its_edit_page(client, auth):
    ws = _sign_in(auth)

    response = _post(client, "/p/funnels/new", {**SETTINGS, "name": "Webinar"})

    [funnel] = _funnels(ws)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/funnels/edit/{funnel.id}"
    assert funnel.id.startswith("fnl_") and funnel.name == "Webinar"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Funnel “Webinar” created." in page and funnel.id in page


def test_creating_a_funnel_with_htmx_redirects_the_browser(client, auth):
    ws = _sign_in(auth)

    response = _post(client, "/p/funnels/new", SETTINGS, headers=HTMX)

    [funnel] = _funnels(ws)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == f"/p/funnels/edit/{funnel.id}"


def test_settings_are_saved_with_times_in_the_workspace_time_zone(client, auth):
    ws = factories.workspace()
    ws.timezone = "Europe/Paris"
    db.session.commit()
    _sign_in(auth, ws)
    funnel = factories.funnel(ws, "Old name")

    response = _post(client, f"/p/funnels/edit/{funnel.id}", SETTINGS)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/funnels/edit/{funnel.id}#settings"
    db.session.refresh(funnel)
    assert (funnel.name, funnel.status, funnel.identifier) == (
        "Webinar sign-ups",
        "active",
        "phone",
    )
    assert (funnel.on_duplicate, funnel.double_opt_in) == ("reject", True)
    assert funnel.description == "People who register for the webinar."
    assert funnel.starts_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # 09:00 in Paris (CET)
    assert funnel.ends_at == datetime(2026, 3, 31, 16, 30, tzinfo=UTC)  # 18:30 in Paris (CEST)
    assert funnel.notify_emails == ["sales@example.com", "ops@example.com"]
    page = client.get(f"/p/funnels/edit/{funnel.id}").get_data(as_text=True)
    assert 'value="2026-03-01T09:00"' in page and 'value="2026-03-31T18:30"' in page


def test_saving_settings_with_htmx_answers_the_form_and_a_flash(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, "Old name")

    response = _post(client, f"/p/funnels/edit/{funnel.id}", SETTINGS, headers=HTMX)

    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<form id="settings"') and "<html" not in body
    assert 'value="Webinar sign-ups"' in body
    assert 'hx-swap-oob="true"' in body and "Funnel settings saved." in body
    assert '<div id="funnel-head" hx-swap-oob="true">\n    <h1>Webinar sign-ups</h1>' in body


def test_clearing_the_dates_and_emails_clears_them(client, auth):
    ws = _sign_in(auth)
    funnel = factories.funnel(
        ws,
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        notify_emails=["a@example.com"],
    )

    _post(
        client,
        f"/p/funnels/edit/{funnel.id}",
        {**SETTINGS, "starts_at": "", "ends_at": "", "notify_emails": "", "double_opt_in": ""},
    )

    db.session.refresh(funnel)
    assert funnel.starts_at is None and funnel.ends_at is None
    assert funnel.notify_emails == [] and funnel.double_opt_in is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "This field is required."),
        ({"name": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"status": "paused"}, "Not a valid choice."),
        ({"identifier": "name"}, "Not a valid choice."),
        ({"on_duplicate": "merge"}, "Not a valid choice."),
        ({"starts_at": "next monday"}, "Not a valid datetime value."),
        ({"ends_at": "2026-02-01T00:00"}, "Closes at must be after Opens at."),
        (
            {"notify_emails": "sales@example.com, not-an-email"},
            "Not an email address: not-an-email",
        ),
        ({"notify_emails": ",".join(f"u{i}@example.com" for i in range(21))}, "At most 20"),
    ],
)
def test_invalid_settings_answer_422_with_the_error_on_the_field(client, auth, changes, message):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws, "Kept")

    page = _post(client, f"/p/funnels/edit/{funnel.id}", {**SETTINGS, **changes})
    fragment = _post(client, f"/p/funnels/edit/{funnel.id}", {**SETTINGS, **changes}, headers=HTMX)
    created = _post(client, "/p/funnels/new", {**SETTINGS, **changes}, headers=HTMX)

    assert page.status_code == fragment.status_code == created.status_code == 422
    assert message in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<form id="settings"') and message in body
    assert 'aria-invalid="true"' in body or 'class="form-errors"' in body
    assert created.get_data(as_text=True).lstrip().startswith('<form id="funnel-form"')
    db.session.refresh(funnel)
    assert funnel.name == "Kept" and len(_funnels(ws)) == 1


def test_the_edit_page_shows_settings_stages_and_origins(client, auth):
    ws = _sign_in(auth)
    funnel = factories.staged_funnel(ws, name="Onboarding")
    factories.origin(funnel)

    full = client.get(f"/p/funnels/edit/{funnel.id}")
    partial = client.get(f"/p/funnels/edit/{funnel.id}", headers=HTMX)

    body = full.get_data(as_text=True)
    assert full.status_code == 200 and "<html" in body
    for part in ('id="settings"', 'id="stages"', 'id="origins"', "Welcome email", "Follow-up"):
        assert part in body
    assert f'<code class="public-id">{funnel.id}</code>' in body
    assert partial.get_data(as_text=True).lstrip().startswith('<form id="settings"')
    assert "HX-Request" in full.headers["Vary"]


def test_a_manager_may_create_and_edit_funnels(client, auth):
    ws = _sign_in(auth, role=Role.MANAGER)

    # Emails to notify outside the workspace are an administrator's (test_outbound_data.py).
    created = _post(client, "/p/funnels/new", {**SETTINGS, "notify_emails": ""})

    [funnel] = _funnels(ws)
    assert created.status_code == 302
    assert client.get(f"/p/funnels/edit/{funnel.id}").status_code == 200


def test_another_workspaces_funnel_is_not_found(client, auth):
    _sign_in(auth)
    theirs = factories.funnel(factories.workspace(), "Theirs")

    assert client.get(f"/p/funnels/edit/{theirs.id}").status_code == 404
    assert _post(client, f"/p/funnels/edit/{theirs.id}", SETTINGS).status_code == 404
    assert client.get("/p/funnels/edit/fnl_nonexistent").status_code == 404
    db.session.refresh(theirs)
    assert theirs.name == "Theirs"


def test_signed_out_visitors_are_sent_to_sign_in(client):
    funnel = factories.funnel(factories.workspace())

    response = client.get(f"/p/funnels/edit/{funnel.id}")

    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
