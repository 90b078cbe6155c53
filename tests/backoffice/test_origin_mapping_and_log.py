"""An origin's page: its ingestion log, its hook URL and mapping, and the "try it" box."""

from __future__ import annotations

import html
from datetime import timedelta

from leadsite.extensions import db
from leadsite.ids import new_id
from leadsite.models import IngestionEntry, Lead, Origin, OriginKind, Role, Workspace, utcnow
from tests import factories
from tests.conftest import csrf_token

HTMX = {"HX-Request": "true"}
MAPPING_TEXT = (
    "email = contact.email\nfirst_name = contact.name\n# a comment\ndata.company = org.name\n"
)
PAYLOAD = '{"contact": {"email": "ada@example.com", "name": "Ada"}, "org": {"name": "Acme"}}'


def _sign_in(auth, role: Role = Role.ADMINISTRATOR) -> Workspace:
    ws = factories.workspace()
    auth.login(factories.user(ws, role=role).email)
    return ws


def _api_origin(ws: Workspace, **fields: object) -> Origin:
    factories.data_point(ws, "company")
    return factories.origin(factories.staged_funnel(ws), OriginKind.API, **fields)


def _page(origin: Origin) -> str:
    return f"/p/funnels/edit/{origin.funnel_id}/origins/{origin.id}"


def _post(client, path: str, data: dict[str, object], **kwargs: object):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/p/")}, **kwargs)


def _entry(origin: Origin, minutes_ago: int, **fields: object) -> IngestionEntry:
    values: dict[str, object] = {
        "dialect": "leadsite",
        "outcome": "created",
        "status": 201,
        "codes": [],
        "body": '{"email": "x@example.com"}',
    }
    values.update(fields)
    entry = IngestionEntry(
        id=new_id("ing"),
        workspace_id=origin.workspace_id,
        origin_id=origin.id,
        at=utcnow() - timedelta(minutes=minutes_ago),
        **values,
    )
    db.session.add(entry)
    return entry


def test_the_origin_page_shows_its_log_with_why_a_call_was_refused(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)
    key = factories.api_key(ws)
    client.post(
        f"/api/v1/leads?ref={origin.ref}",
        json={"email": "ada@example.com"},
        headers={"Authorization": f"Bearer {key}"},
    )
    client.post(
        f"/api/v1/leads?ref={origin.ref}",
        json={"email": "broken", "api_key": "do-not-show-me"},
        headers={"Authorization": f"Bearer {key}"},
    )

    body = html.unescape(client.get(_page(origin)).get_data(as_text=True))

    assert "Ingestion log" in body
    assert body.count('class="log-entry"') == 2
    assert body.index('data-outcome="rejected"') < body.index('data-outcome="created"')
    assert "VALIDATION_ERROR" in body and "Validation failed" in body
    assert "ada@example.com" in body and "do-not-show-me" not in body
    assert key not in body


def test_the_log_filters_by_outcome_and_loads_more(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)
    for n in range(30):
        _entry(origin, minutes_ago=100 - n)
    _entry(origin, minutes_ago=1, outcome="rejected", status=422, codes=["VALIDATION_ERROR"])
    db.session.commit()
    log = f"{_page(origin)}/log"

    rejected = client.get(log, query_string={"outcome": "rejected"}, headers=HTMX)
    first = client.get(log, headers=HTMX).get_data(as_text=True)
    more_url = html.unescape(first.split('hx-get="')[-1].split('"')[0])
    more = client.get(more_url, headers=HTMX).get_data(as_text=True)

    rejected_body = rejected.get_data(as_text=True)
    assert rejected_body.count('class="log-entry"') == 1 and "VALIDATION_ERROR" in rejected_body
    assert "<html" not in first and first.count('class="log-entry"') == 25
    assert "after=" in more_url
    assert more.count('class="log-entry"') == 6 and "Load more" not in more
    assert "<table" not in more  # only the rows, appended in place of the button's row


def test_the_log_pages_without_javascript(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)
    for n in range(26):
        _entry(origin, minutes_ago=100 - n)
    db.session.commit()

    first = client.get(_page(origin)).get_data(as_text=True)
    more_url = html.unescape(first.split('class="button" href="')[-1].split("#")[0])
    second = client.get(more_url)

    assert "<html" in second.get_data(as_text=True)
    assert second.get_data(as_text=True).count('class="log-entry"') == 1


def test_the_hook_url_is_shown_on_the_origin_page_only(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)

    page = client.get(_page(origin)).get_data(as_text=True)
    funnel_page = client.get(f"/p/funnels/edit/{origin.funnel_id}").get_data(as_text=True)

    assert f"http://localhost/hooks/{origin.ref}/{origin.hook_secret}" in page
    assert origin.hook_secret not in funnel_page


def test_try_it_shows_the_mapped_lead_and_saves_nothing(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)

    response = _post(
        client,
        f"{_page(origin)}/try",
        {"name": origin.name, "mapping": MAPPING_TEXT, "try_payload": PAYLOAD},
        headers=HTMX,
    )

    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="try-result"')
    assert "<code>email</code>" in body and "ada@example.com" in body
    assert "<code>first_name</code>" in body and "Ada" in body
    assert "<code>company</code>: Acme" in body
    assert "It would register." in body
    db.session.expire_all()
    assert db.session.get(Origin, origin.id).mapping is None
    assert db.session.scalar(db.select(db.func.count(Lead.id))) == 0


def test_try_it_shows_the_errors_registering_would_meet(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)
    payload = '{"contact": {"email": "not-an-email"}, "org": {"name": "Acme"}}'

    response = _post(
        client,
        f"{_page(origin)}/try",
        {
            "name": origin.name,
            "mapping": MAPPING_TEXT + "data.nope = org.name",
            "try_payload": payload,
        },
        headers=HTMX,
    )

    body = html.unescape(response.get_data(as_text=True))
    assert "Registering it would fail" in body
    assert "<code>email</code>:" in body and "nope" in body
    assert "It would register." not in body


def test_try_it_works_without_javascript_and_keeps_what_was_typed(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)

    response = _post(
        client,
        f"{_page(origin)}/try",
        {"name": origin.name, "mapping": MAPPING_TEXT, "try_payload": PAYLOAD},
    )

    body = html.unescape(response.get_data(as_text=True))
    assert "<html" in body and "It would register." in body
    assert "email = contact.email" in body  # the unsaved mapping, still in its box


def test_try_it_says_when_the_payload_or_mapping_cannot_be_read(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)
    path = f"{_page(origin)}/try"

    broken = _post(
        client, path, {"mapping": "email = contact.email", "try_payload": "{nope"}, headers=HTMX
    )
    bad_map = _post(
        client, path, {"mapping": "shoe_size = a", "try_payload": PAYLOAD}, headers=HTMX
    )

    assert "The payload is not JSON" in broken.get_data(as_text=True)
    assert "Mend the mapping first" in html.unescape(bad_map.get_data(as_text=True))


def test_a_manager_saves_the_mapping_and_a_bad_one_is_refused(client, auth):
    ws = _sign_in(auth, Role.MANAGER)
    origin = _api_origin(ws)

    saved = _post(client, _page(origin), {"name": "Typeform", "mapping": MAPPING_TEXT})
    refused = _post(client, _page(origin), {"name": "Typeform", "mapping": "email = a[?"})

    assert saved.status_code == 302
    assert refused.status_code == 422 and "Not a JMESPath expression" in refused.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Origin, origin.id).mapping == {
        "email": "contact.email",
        "first_name": "contact.name",
        "data.company": "org.name",
    }


def test_a_new_secret_in_the_back_office_retires_the_old_hook_url(client, auth):
    ws = _sign_in(auth)
    origin = _api_origin(ws)
    old_secret = origin.hook_secret
    old = f"/hooks/{origin.ref}/{old_secret}"

    response = _post(client, f"{_page(origin)}/hook-secret", {})

    db.session.expire_all()
    fresh = db.session.get(Origin, origin.id)
    assert response.status_code == 302
    assert fresh.hook_secret and fresh.hook_secret != old_secret
    assert client.post(old, json={"email": "ada@example.com"}).status_code == 404
    new = f"/hooks/{fresh.ref}/{fresh.hook_secret}"
    assert client.post(new, json={"email": "ada@example.com"}).status_code == 201
