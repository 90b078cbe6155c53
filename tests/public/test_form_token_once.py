"""A public form's token registers one submission, and a form posted from a foreign site is
refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind, UsedFormToken, utcnow
from leadsite.public.tokens import form_token
from tests import factories
from tests.public.helpers import aged_token, page_token


@pytest.fixture
def origin():
    return factories.origin(
        factories.staged_funnel(factories.workspace()),
        OriginKind.PAGE,
        success_message="Welcome aboard!",
    )


def emails() -> list[str]:
    return sorted(db.session.scalars(db.select(Lead.email)))


def test_one_token_registers_one_person(client, origin):
    token = aged_token(origin.ref)

    statuses = [
        client.post(
            f"/r/{origin.ref}", data={"_token": token, "email": f"p{n}@example.com"}
        ).status_code
        for n in range(3)
    ]

    assert statuses == [200, 409, 409]
    assert emails() == ["p0@example.com"]


def test_a_token_sent_again_gets_the_form_back_with_a_fresh_token_that_works(client, origin):
    token = aged_token(origin.ref)
    data = {"_token": token, "email": "ada@example.com", "first_name": "Ada"}
    client.post(f"/r/{origin.ref}", data=data)

    again = client.post(f"/r/{origin.ref}", data=data)
    body = again.get_data(as_text=True)
    fresh = page_token(again)
    third = client.post(f"/r/{origin.ref}", data={**data, "_token": fresh})

    assert again.status_code == 409
    assert "This form was sent already" in body and 'value="Ada"' in body
    assert fresh != token
    assert third.status_code == 200
    [lead] = db.session.scalars(db.select(Lead)).all()
    assert lead.counter == 2  # the second registration of the same person, on purpose


def test_a_token_whose_form_was_refused_can_be_sent_again_corrected(client, origin):
    token = aged_token(origin.ref)

    refused = client.post(f"/r/{origin.ref}", data={"_token": token, "email": ""})
    corrected = client.post(f"/r/{origin.ref}", data={"_token": token, "email": "a@example.com"})

    assert refused.status_code == 422
    assert corrected.status_code == 200


def test_parallel_posts_of_one_token_register_once(app, origin):
    token = aged_token(origin.ref)

    def send(n: int) -> int:
        with app.test_client() as client:
            data = {"_token": token, "email": f"p{n}@example.com"}
            return client.post(f"/r/{origin.ref}", data=data).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(send, range(6)))

    assert statuses == [200, 409, 409, 409, 409, 409]
    assert len(emails()) == 1


def test_used_tokens_are_pruned_once_they_would_have_expired(client, origin):
    db.session.add(UsedFormToken(nonce="old", expires_at=utcnow() - timedelta(minutes=1)))
    db.session.add(UsedFormToken(nonce="live", expires_at=utcnow() + timedelta(hours=1)))
    db.session.commit()

    client.post(f"/r/{origin.ref}", data={"_token": aged_token(origin.ref), "email": "a@b.co"})

    nonces = set(db.session.scalars(db.select(UsedFormToken.nonce)))
    assert "old" not in nonces and "live" in nonces and len(nonces) == 2


@pytest.mark.parametrize(
    "sent_from", ["https://evil.example", "null", "http://localhost.evil.example"]
)
def test_a_form_posted_from_a_foreign_site_is_refused(client, origin, sent_from):
    data = {"_token": aged_token(origin.ref), "email": "ada@example.com"}

    response = client.post(f"/r/{origin.ref}", data=data, headers={"Origin": sent_from})

    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This form cannot be sent from another site" in body
    assert f'href="/r/{origin.ref}"' in body
    assert emails() == []


@pytest.mark.parametrize("sent_from", [None, "http://localhost", "https://www.example.com"])
def test_a_form_from_our_site_its_allowed_sites_or_no_origin_is_accepted(client, sent_from):
    ws = factories.workspace()
    embed = factories.origin(
        factories.staged_funnel(ws), OriginKind.EMBED, allowed_domains=["https://*.example.com"]
    )
    headers = {"Origin": sent_from} if sent_from else {}
    data = {"_token": aged_token(embed.ref), "email": "ada@example.com"}

    response = client.post(f"/embed/{embed.ref}", data=data, headers=headers)

    assert response.status_code == 200
    assert emails() == ["ada@example.com"]


def test_the_embed_refuses_a_site_not_on_its_list(client):
    embed = factories.origin(
        factories.staged_funnel(factories.workspace()),
        OriginKind.EMBED,
        allowed_domains=["https://*.example.com"],
    )
    data = {"_token": aged_token(embed.ref), "email": "ada@example.com"}

    response = client.post(
        f"/embed/{embed.ref}", data=data, headers={"Origin": "https://example.org"}
    )

    assert response.status_code == 403
    assert emails() == []


def test_a_form_sent_back_keeps_timing_from_when_it_was_first_shown(client, origin):
    """Sending a bad form at once must not buy a token that passes the minimum fill time."""
    fast = client.post(f"/r/{origin.ref}", data={"_token": form_token(origin.ref), "email": ""})
    again = client.post(
        f"/r/{origin.ref}", data={"_token": page_token(fast), "email": "bot@example.com"}
    )

    assert fast.status_code == 422 and again.status_code == 200
    [lead] = db.session.scalars(db.select(Lead)).all()
    assert lead.held
