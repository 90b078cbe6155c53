"""Back-office doors that take a URL refuse one `urlsplit` cannot read with a form error, and a
bad URL already stored does not make a page fail."""

from __future__ import annotations

import html

import pytest

from leadsite.extensions import db
from leadsite.models import Activity, Journey, Lead, Origin, OriginKind, WebhookEndpoint, Workspace
from tests import factories
from tests.bad_values import BAD_URL_IDS, BAD_URLS, STORED_BAD_URLS
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}


def _sign_in(auth) -> Workspace:
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    return ws


def _post(client, path: str, data: dict[str, object], **kwargs: object):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/p/")}, **kwargs)


def _store(model: type, row_id: str, **columns: object) -> None:
    """Write around every check, as an old row or a hand edit would."""
    db.session.execute(db.update(model).where(model.id == row_id).values(**columns))
    db.session.commit()
    db.session.expire_all()


def _shows(response, message: str) -> bool:
    return message in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(("raw", "message"), BAD_URLS, ids=BAD_URL_IDS)
def test_a_bad_webhook_url_is_a_form_error(client, auth, raw, message):
    ws = _sign_in(auth)
    endpoint = factories.webhook_endpoint(ws)
    form = {"url": raw, "events": ["lead.created"], "active": "y"}

    created = _post(client, "/p/settings/webhooks", form, headers=HTMX)
    changed = _post(client, f"/p/settings/webhooks/{endpoint.id}", form, headers=HTMX)

    assert created.status_code == changed.status_code == 422
    assert _shows(created, message) and _shows(changed, message)
    assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEndpoint)) == 1


@pytest.mark.parametrize(("raw", "message"), BAD_URLS, ids=BAD_URL_IDS)
def test_a_bad_origin_redirect_url_is_a_form_error(client, auth, raw, message):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.PAGE)
    form = {
        "name": "Sign-up form",
        "allowed_domains": "",
        "rows-0-name": "email",
        "rows-0-shown": "y",
        "rows-0-required": "y",
        "redirect_url": raw,
    }

    response = _post(client, f"/p/funnels/edit/{funnel.id}/origins/{origin.id}", form, headers=HTMX)

    assert response.status_code == 422
    assert _shows(response, message)
    db.session.expire_all()
    assert db.session.get(Origin, origin.id).redirect_url is None


@pytest.mark.parametrize(("raw", "message"), BAD_URLS[:-1], ids=BAD_URL_IDS[:-1])
def test_a_bad_webhook_activity_url_is_a_form_error(client, auth, raw, message):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    stage = factories.stage(funnel, "Welcome")
    path = f"/p/funnels/edit/{funnel.id}/stages/{stage.id}/activities/new"
    form = {"kind": "webhook", "activity-title": "Tell the CRM", "activity-url": raw}

    response = _post(client, path, form, headers=HTMX)

    assert response.status_code == 422
    assert _shows(response, message)
    assert db.session.scalar(db.select(db.func.count()).select_from(Activity)) == 0


@pytest.mark.parametrize("stored", STORED_BAD_URLS)
def test_bad_stored_urls_leave_the_lead_webhook_and_origin_pages_working(client, auth, stored):
    ws = _sign_in(auth)
    funnel = factories.staged_funnel(ws)
    origin = factories.origin(funnel, OriginKind.PAGE)
    lead = factories.registered(origin, email="ada@example.com")
    journey = db.session.scalar(db.select(Journey).filter_by(lead_id=lead.id))
    endpoint = factories.webhook_endpoint(ws)
    _store(Lead, lead.id, source_url=stored, referrer=stored)
    _store(Journey, journey.id, redirect_url=stored)
    _store(Origin, origin.id, redirect_url=stored)
    _store(WebhookEndpoint, endpoint.id, url=stored)

    pages = [
        "/p/leads",
        f"/p/leads/{lead.id}",
        "/p/settings/webhooks",
        f"/p/settings/webhooks/{endpoint.id}",
        f"/p/funnels/edit/{funnel.id}",
        f"/p/funnels/edit/{funnel.id}/origins/{origin.id}",
        "/p/leads/export",
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page


@pytest.mark.parametrize("current", ["http://[x/", "http://localhost:99999/p/leads"])
def test_a_bad_hx_current_url_gives_the_unfiltered_list(client, auth, current):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    token = csrf_token(client, "/p/leads/new")

    response = client.post(
        "/p/leads/new",
        data={"funnel": funnel.id, "email": "ada@example.com", "csrf_token": token},
        headers={**HTMX, "HX-Current-URL": current},
    )

    assert response.status_code == 200
    assert "ada@example.com" in response.get_data(as_text=True)


@pytest.mark.parametrize("return_to", ["http://[x/", "/p/leads?x=1\r\nSet-Cookie: a=b"])
def test_a_bad_return_to_goes_back_to_the_plain_list(client, auth, return_to):
    ws = _sign_in(auth)
    lead = factories.lead(ws)
    form = {"lead": [lead.id], "action": "status", "value": "won", "return_to": return_to}

    response = client.post(
        "/p/leads/bulk", data={**form, "csrf_token": csrf_token(client, "/p/leads")}
    )

    assert response.status_code == 303 and response.headers["Location"] == "/p/leads"


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/p/\r\nSet-Cookie: a=b", "/p/"),
        ("/p/\nx", "/p/"),
        ("/\\evil.example", "/p/"),
        ("/[x", "/%5Bx"),
    ],
)
def test_sign_in_with_a_bad_next_goes_to_the_dashboard(client, target, location):
    person = factories.user()

    response = client.post(
        "/login",
        query_string={"next": target},
        data={
            "email": person.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token(client),
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"] == location
