"""Referrals: every lead's share code and URL, and the referrer a registration names, through
the KickoffLabs API, the hosted page and the embed form; shown on the lead page and in webhooks."""

from __future__ import annotations

import json
import re

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from leadsite.outbox import worker
from tests import factories
from tests.api.conftest import ApiWorld
from tests.api.kickofflabs import post_v2
from tests.public.helpers import post_form
from tests.servers import webhook_receiver

HIDDEN_KID = re.compile(r'name="_kid" value="([^"]+)"')


def _fresh(lead_id: str) -> Lead:
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def _referrer(api: ApiWorld) -> dict:
    response = post_v2(api, {"email": "ada@example.com"})
    assert response.status_code == 200
    return response.json


def test_every_lead_gets_its_own_share_code(api: ApiWorld):
    first = _referrer(api)
    second = post_v2(api, {"email": "bob@example.com"}).json

    assert re.fullmatch(r"[0-9a-z]{8}", first["social_id"])
    assert first["social_id"] != second["social_id"]
    assert _fresh(first["id"]).social_id == first["social_id"]


def test_a_registration_naming_a_social_id_records_its_referrer(api: ApiWorld):
    ada = _referrer(api)

    bob = post_v2(api, {"email": "bob@example.com", "social_id": ada["social_id"]})

    assert bob.status_code == 200
    assert _fresh(bob.json["id"]).referred_by == ada["id"]
    assert _fresh(ada["id"]).referrals == 1
    again = post_v2(api, {"email": "ada@example.com"}).json
    assert again["referrals"] == 1


def test_kid_in_the_body_or_in_the_signup_urls_query_names_the_referrer(api: ApiWorld):
    ada = _referrer(api)

    post_v2(api, {"email": "bob@example.com", "kid": ada["social_id"].upper()})
    post_v2(
        api,
        {"email": "cy@example.com", "__url": f"https://shop.example.com/?kid={ada['social_id']}"},
    )

    referred = db.session.scalars(db.select(Lead.email).filter_by(referred_by=ada["id"])).all()
    assert sorted(referred) == ["bob@example.com", "cy@example.com"]
    assert _fresh(ada["id"]).referrals == 2
    assert "kid" not in _fresh(ada["id"]).custom_fields


def test_a_lead_coming_back_through_its_own_link_is_matched_not_self_referred(api: ApiWorld):
    ada = _referrer(api)

    again = post_v2(api, {"email": "ada@example.com", "kid": ada["social_id"]})

    assert again.json["id"] == ada["id"] and again.json["counter"] == 2
    assert _fresh(ada["id"]).referred_by is None
    assert _fresh(ada["id"]).referrals == 0


def test_a_known_lead_is_not_credited_to_a_later_referrer(api: ApiWorld):
    ada = _referrer(api)
    post_v2(api, {"email": "bob@example.com"})

    post_v2(api, {"email": "bob@example.com", "social_id": ada["social_id"]})

    assert db.session.scalar(db.select(Lead.referred_by).filter_by(email="bob@example.com")) is None
    assert _fresh(ada["id"]).referrals == 0


def test_an_unknown_share_code_does_not_stop_the_signup(api: ApiWorld):
    response = post_v2(api, {"email": "bob@example.com", "social_id": "zzzzzzzz"})

    assert response.status_code == 200
    assert _fresh(response.json["id"]).referred_by is None


def test_a_share_code_of_another_workspace_refers_nobody(api: ApiWorld):
    other = factories.registered(
        factories.origin(factories.funnel(factories.workspace())), email="ada@example.com"
    )

    bob = post_v2(api, {"email": "bob@example.com", "kid": other.social_id}).json

    assert _fresh(bob["id"]).referred_by is None
    assert _fresh(other.id).referrals == 0


def test_the_share_url_is_the_signup_page_with_kid(api: ApiWorld):
    body = post_v2(
        api, {"email": "ada@example.com", "__url": "https://shop.example.com/join?kid=old&x=1"}
    ).json

    assert body["social_url"] == f"https://shop.example.com/join?x=1&kid={body['social_id']}"


def test_the_share_url_is_the_funnels_hosted_page_when_the_lead_came_by_api(api: ApiWorld):
    no_page = _referrer(api)
    page = factories.origin(api.funnel, OriginKind.PAGE)

    body = post_v2(api, {"email": "ada@example.com"}).json

    assert no_page["social_url"] is None
    assert body["social_url"] == f"http://localhost/r/{page.ref}?kid={body['social_id']}"


def test_the_hosted_page_carries_kid_and_records_the_referral(client, api: ApiWorld):
    page = factories.origin(api.funnel, OriginKind.PAGE)
    ada = _referrer(api)

    shown = client.get(f"/r/{page.ref}?kid={ada['social_id']}").get_data(as_text=True)
    kid = HIDDEN_KID.search(shown).group(1)
    done = post_form(client, f"/r/{page.ref}", page.ref, email="bob@example.com", _kid=kid)

    assert done.status_code in (200, 303)
    bob = db.session.scalars(db.select(Lead).filter_by(email="bob@example.com")).one()
    assert bob.referred_by == ada["id"]
    assert _fresh(ada["id"]).referrals == 1
    assert bob.social_id and bob.social_id != ada["social_id"]


def test_the_embed_form_reads_kid_from_embed_js_or_the_parent_pages_url(client, api: ApiWorld):
    embed = factories.origin(
        api.funnel, OriginKind.EMBED, allowed_domains=["https://shop.example.com"]
    )
    ada = _referrer(api)

    from_script = client.get(
        f"/embed/{embed.ref}",
        query_string={"url": "https://shop.example.com/", "kid": ada["social_id"], "js": "1"},
    ).get_data(as_text=True)
    from_url = client.get(
        f"/embed/{embed.ref}",
        query_string={"url": f"https://shop.example.com/?kid={ada['social_id']}"},
    ).get_data(as_text=True)
    post_form(
        client,
        f"/embed/{embed.ref}",
        embed.ref,
        email="bob@example.com",
        _kid=HIDDEN_KID.search(from_script).group(1),
    )

    assert HIDDEN_KID.search(from_url).group(1) == ada["social_id"]
    bob = db.session.scalars(db.select(Lead).filter_by(email="bob@example.com")).one()
    assert bob.referred_by == ada["id"]


def test_the_lead_page_shows_share_code_referrer_and_referrals(client, auth, api: ApiWorld):
    auth.login(factories.user(api.workspace).email)
    ada = _referrer(api)
    bob = post_v2(api, {"email": "bob@example.com", "kid": ada["social_id"], "points": 4}).json

    bob_page = client.get(f"/p/leads/{bob['id']}").get_data(as_text=True)
    ada_page = client.get(f"/p/leads/{ada['id']}").get_data(as_text=True)

    assert f'<a href="/p/leads/{ada["id"]}">ada@example.com</a>' in bob_page
    assert bob["social_id"] in bob_page
    assert re.search(r"<dt>Points</dt><dd>4</dd>", bob_page)
    assert re.search(r"<dt>Referrals</dt><dd>1</dd>", ada_page)


def test_webhook_payloads_carry_the_referral(api: ApiWorld):
    ada = _referrer(api)
    worker.run_once()
    with webhook_receiver() as receiver:
        factories.webhook_endpoint(api.workspace, receiver.url, events=["lead.created"])
        bob = post_v2(api, {"email": "bob@example.com", "kid": ada["social_id"]}).json
        while worker.run_once():
            pass
        received = receiver.wait_for(1)

    data = json.loads(received[0].body)["data"]
    assert data["id"] == bob["id"]
    assert data["social_id"] == bob["social_id"]
    assert data["referred_by"] == ada["id"]
    assert data["referrals"] == 0


def test_the_leadsite_api_records_a_referral_too(api: ApiWorld):
    ada = _referrer(api)

    bob = api.register({"Email": "bob@example.com", "kid": ada["social_id"]})

    assert bob.status_code == 201
    assert bob.json["data"]["referred_by"] == ada["id"]
    assert bob.json["data"]["custom_fields"] == {}
    assert _fresh(ada["id"]).referrals == 1
