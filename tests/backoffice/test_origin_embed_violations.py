"""An embed origin's page names the sites that framed it without being allowed; one click
allows a site (it joins the allowed sites) or dismisses it."""

from __future__ import annotations

import pytest

from leadsite.embed_violations import record_violation
from leadsite.extensions import db
from leadsite.models import EmbedViolation, Origin, OriginKind, Workspace
from tests import factories
from tests.conftest import csrf_token

OTHER_SITE = "https://blog.other.example"


def _embed_origin(ws: Workspace, **fields: object) -> Origin:
    fields.setdefault("allowed_domains", ["https://shop.example"])
    return factories.origin(factories.staged_funnel(ws), OriginKind.EMBED, **fields)


def _page(origin: Origin) -> str:
    return f"/p/funnels/edit/{origin.funnel_id}/origins/{origin.id}"


def _violation(origin: Origin, host: str = OTHER_SITE, times: int = 1) -> EmbedViolation:
    for _ in range(times):
        record_violation(origin, host)
    return db.session.scalar(db.select(EmbedViolation).filter_by(origin_id=origin.id, host=host))


@pytest.fixture
def origin(auth) -> Origin:
    """An embed origin of the signed-in administrator's workspace, allowing one site."""
    ws = factories.workspace()
    auth.login(factories.user(ws).email)
    return _embed_origin(ws)


def _post(client, path: str):
    return client.post(path, data={"csrf_token": csrf_token(client, "/p/")})


def test_the_origin_page_names_the_sites_that_were_refused(client, origin):
    _violation(origin, times=3)

    body = client.get(_page(origin)).get_data(as_text=True)

    assert f'Blocked on <strong class="break">{OTHER_SITE}</strong> (not in allowed' in body
    assert "3 times" in body
    assert f"Allow {OTHER_SITE}</button>" in body


def test_allow_adds_the_site_and_clears_the_row(client, origin):
    violation = _violation(origin)

    response = _post(client, f"{_page(origin)}/violations/{violation.id}/allow")
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{_page(origin)}#embed-violations")
    db.session.expire_all()
    assert origin.allowed_domains == ["https://shop.example", OTHER_SITE]
    assert db.session.scalar(db.select(db.func.count(EmbedViolation.id))) == 0
    assert f"{OTHER_SITE} added to the allowed sites" in page and "Blocked on" not in page
    embed = client.get(f"/embed/{origin.ref}")
    assert (
        f"frame-ancestors https://shop.example {OTHER_SITE};"
        in (embed.headers["Content-Security-Policy"])
    )


def test_dismiss_clears_the_row_and_leaves_the_allowed_sites(client, origin):
    violation = _violation(origin)

    response = _post(client, f"{_page(origin)}/violations/{violation.id}/dismiss")

    assert response.status_code == 302
    db.session.expire_all()
    assert origin.allowed_domains == ["https://shop.example"]
    assert db.session.scalar(db.select(db.func.count(EmbedViolation.id))) == 0


@pytest.mark.parametrize("action", ["allow", "dismiss"])
def test_another_workspaces_violation_is_not_found(client, origin, action):
    mine = origin
    theirs = _embed_origin(factories.workspace())
    violation = _violation(theirs)

    wrong_origin = _post(client, f"{_page(mine)}/violations/{violation.id}/{action}")
    foreign = _post(client, f"{_page(theirs)}/violations/{violation.id}/{action}")

    assert (wrong_origin.status_code, foreign.status_code) == (404, 404)
    db.session.expire_all()
    assert theirs.allowed_domains == ["https://shop.example"]
    assert db.session.get(EmbedViolation, violation.id) is not None


def test_allow_without_a_csrf_token_is_refused(client, origin):
    violation = _violation(origin)

    response = client.post(f"{_page(origin)}/violations/{violation.id}/allow")

    assert response.status_code == 400
    db.session.expire_all()
    assert origin.allowed_domains == ["https://shop.example"]
