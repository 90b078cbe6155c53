"""Keyless KickoffLabs calls: an API origin set to accept them takes browser forms from its
allowed sites without a key, limited per IP like the hosted forms, and never with points."""

from __future__ import annotations

import html

import pytest
from flask import Flask

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from tests import factories
from tests.api.conftest import ApiWorld
from tests.api.kickofflabs import EXAMPLE, error_code, post_v2
from tests.conftest import csrf_token

SHOP = "https://shop.example.com"  # the api fixture's allowed site
EXAMPLE_FIELDS = {"company": "Example Co"}


@pytest.fixture
def keyless(api: ApiWorld) -> ApiWorld:
    api.origin.settings = {**(api.origin.settings or {}), "accept_keyless": True}
    db.session.commit()
    return api


def _leads() -> list[str]:
    return list(db.session.scalars(db.select(Lead.email)))


def test_a_browser_form_on_an_allowed_site_registers_without_a_key(keyless: ApiWorld):
    response = post_v2(keyless, headers={"Origin": SHOP}, data=EXAMPLE)

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    assert _leads() == ["ada@example.com"]


def test_a_keyless_fetch_is_preflighted_for_allowed_sites_only(keyless: ApiWorld):
    allowed = keyless.client.options(
        f"/v2/{keyless.origin.ref}/",
        headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"},
    )
    other = keyless.client.options(
        f"/v2/{keyless.origin.ref}/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {}],
    ids=["another-site", "no-origin"],
)
def test_keyless_calls_from_elsewhere_are_refused(keyless: ApiWorld, headers: dict):
    response = post_v2(keyless, EXAMPLE, headers=headers)

    assert (response.status_code, error_code(response)) == (409, "INVALID_API_ACCESS")
    assert _leads() == []


def test_an_origin_not_set_to_accept_them_refuses_keyless_calls(api: ApiWorld):
    response = post_v2(api, EXAMPLE, headers={"Origin": SHOP})

    assert (response.status_code, error_code(response)) == (409, "INVALID_API_ACCESS")
    assert _leads() == []


def test_points_are_refused_without_a_key(keyless: ApiWorld):
    response = post_v2(keyless, {**EXAMPLE, "points": 100}, headers={"Origin": SHOP})

    assert (response.status_code, error_code(response)) == (409, "INVALID_API_ACCESS")
    assert _leads() == []


def test_keyless_calls_are_rate_limited_per_ip(app: Flask, keyless: ApiWorld):
    app.config["PUBLIC_FORM_RATE_LIMIT"] = "2 per day"
    try:
        answers = [
            post_v2(
                keyless,
                {"email": f"lead{n}@example.com"},
                headers={"Origin": SHOP},
                environ_base={"REMOTE_ADDR": "198.51.100.7"},
            )
            for n in range(3)
        ]
        elsewhere = post_v2(
            keyless,
            {"email": "other@example.com"},
            headers={"Origin": SHOP},
            environ_base={"REMOTE_ADDR": "198.51.100.8"},
        )
        with_key = post_v2(
            keyless, {"email": "server@example.com"}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
        )
    finally:
        app.config["PUBLIC_FORM_RATE_LIMIT"] = "20 per minute"

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert error_code(answers[2]) == "RATE_LIMITED"
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert elsewhere.status_code == 200 and with_key.status_code == 200
    assert len(_leads()) == 4


def test_the_api_origins_page_sets_accept_keyless(client, auth, api: ApiWorld):
    auth.login(factories.user(api.workspace).email)
    path = f"/p/funnels/edit/{api.funnel.id}/origins/{api.origin.id}"
    page_origin = factories.origin(api.funnel, OriginKind.PAGE)

    shown = client.get(path).get_data(as_text=True)
    saved = client.post(
        path,
        data={
            "name": "Website",
            "allowed_domains": SHOP,
            "accept_keyless": "y",
            "csrf_token": csrf_token(client, path),
        },
    )
    page_form = client.get(f"/p/funnels/edit/{api.funnel.id}/origins/{page_origin.id}")

    assert 'name="accept_keyless"' in shown
    assert saved.status_code == 302
    db.session.expire_all()
    assert api.origin.settings["accept_keyless"] is True
    after = html.unescape(client.get(path).get_data(as_text=True))
    assert f"Accepts calls without a key from {SHOP}" in after
    assert 'name="accept_keyless"' not in page_form.get_data(as_text=True)
    assert post_v2(api, EXAMPLE, headers={"Origin": SHOP}).status_code == 200


def test_a_browser_form_goes_on_to_the_redirect_url(keyless: ApiWorld):
    navigation = {"Origin": SHOP, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

    page = post_v2(
        keyless,
        headers=navigation,
        data={**EXAMPLE, "redirect_url": "https://shop.example.com/thanks"},
    )
    script = post_v2(
        keyless,
        headers={"Origin": SHOP, "Accept": "*/*"},
        data={"email": "bob@example.com", "redirect_url": "https://shop.example.com/thanks"},
    )

    assert page.status_code == 303
    assert page.headers["Location"] == "https://shop.example.com/thanks"
    assert script.status_code == 200 and script.json["email"] == "bob@example.com"
    assert sorted(_leads()) == ["ada@example.com", "bob@example.com"]


def test_a_keyless_call_matching_a_known_lead_reads_none_of_its_data(keyless: ApiWorld):
    stored = post_v2(keyless, {**EXAMPLE, "secret_note": "VIP"}).json  # with the key

    response = post_v2(keyless, {"email": "ada@example.com"}, headers={"Origin": SHOP})

    body = response.json
    assert response.status_code == 200
    assert set(body) == {
        "id",
        "social_id",
        "social_url",
        "referrals",
        "contest_score",
        "redirect_url",
        "created",
    }
    assert (body["id"], body["social_id"], body["created"]) == (
        stored["id"],
        stored["social_id"],
        False,
    )
    assert "+12065550100" not in response.get_data(as_text=True)


def test_a_keyless_call_creating_a_lead_gets_the_whole_lead(keyless: ApiWorld):
    body = post_v2(keyless, EXAMPLE, headers={"Origin": SHOP}).json

    assert body["created"] is True
    assert (body["phone_number"], body["custom_fields"]) == ("+12065550100", EXAMPLE_FIELDS)
    assert body["url"].startswith("http://localhost/j/")
