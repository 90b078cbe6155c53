"""An API origin's page: a request that runs as printed, with the origin's publishable key; and
the API docs one click away in the navigation."""

from __future__ import annotations

import html
import re

import pytest

from leadsite import accounts
from leadsite.extensions import db
from leadsite.models import Lead, Origin, OriginKind, Workspace
from tests import factories
from tests.servers import run_curl


def _sign_in(auth) -> Workspace:
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    return ws


def _snippet(body: str, origin: Origin, key: str) -> str | None:
    found = re.search(rf'<code id="snippet-{origin.id}-{key}"[^>]*>(.*?)</code>', body, re.S)
    return html.unescape(found.group(1)) if found else None


def _page(client, origin: Origin) -> str:
    return client.get(f"/p/funnels/edit/{origin.funnel_id}/origins/{origin.id}").get_data(
        as_text=True
    )


def test_the_ready_to_run_curl_registers_a_lead_as_printed(client, auth, live_server):
    ws = _sign_in(auth)
    funnel = factories.funnel(ws)
    origin = factories.origin(funnel, OriginKind.API, allowed_domains=["https://*.shop.example"])
    key = accounts.create_publishable_key(ws, "Shop", [origin.id])
    db.session.commit()

    body = _page(client, origin)
    command = _snippet(body, origin, "try")
    assert command is not None
    answer = run_curl(command)

    assert f'"{live_server}/api/v1/leads?ref={origin.ref}"' in command
    assert f'-H "Authorization: Bearer {key.token}"' in command
    assert '-H "Origin: https://www.shop.example"' in command
    assert "as a page on https://www.shop.example" in body and "runs as it is" in body
    assert answer["success"] is True and answer["created"] is True
    db.session.rollback()  # the served app wrote from its own thread
    lead = db.session.scalars(db.select(Lead)).one()
    assert (lead.email, lead.first_name, lead.origin_id) == (
        "johndoe@example.com",
        "John",
        origin.id,
    )
    fetch = _snippet(body, origin, "fetch")
    assert fetch is not None and f"'Authorization': 'Bearer {key.token}'" in fetch
    assert f'data-copy="#snippet-{origin.id}-try"' in body


@pytest.mark.parametrize("with_key", [False, True])
def test_without_a_key_or_an_allowed_site_there_is_no_ready_request(client, auth, with_key):
    ws = _sign_in(auth)
    origin = factories.origin(factories.funnel(ws), OriginKind.API)
    if with_key:  # a key, but no site it may be used from
        accounts.create_publishable_key(ws, "Shop", [origin.id])
        db.session.commit()

    body = _page(client, origin)

    assert _snippet(body, origin, "try") is None
    assert _snippet(body, origin, "curl") is not None


def test_the_navigation_links_to_the_api_docs(client, auth):
    _sign_in(auth)

    body = client.get("/p/").get_data(as_text=True)
    docs = client.get("/api/docs")

    nav = body[body.index('<nav class="nav"') : body.index("</nav>")]
    assert '<a href="/api/docs">API docs</a>' in nav
    assert docs.status_code == 200
