"""Public pages read URLs from headers, query strings and the database: one that `urlsplit`
cannot read is dropped, never a 500, and a bad one already stored does not break a page."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import Journey, Lead, Origin, OriginKind
from leadsite.public.tokens import confirm_token
from leadsite.registration import LeadInput, RegistrationContext, register
from tests import factories
from tests.bad_values import STORED_BAD_URLS
from tests.public.helpers import post_form

BAD = ["http://[x/", "http://a:99999/", "http://[::1/"]


def _origin(kind: OriginKind = OriginKind.PAGE, **fields: object) -> Origin:
    return factories.origin(factories.staged_funnel(factories.workspace()), kind, **fields)


def _store(model: type, row_id: str, **columns: object) -> None:
    """Write around every check, as an old row or a hand edit would."""
    db.session.execute(db.update(model).where(model.id == row_id).values(**columns))
    db.session.commit()
    db.session.expire_all()


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_referer_or_page_url_leaves_the_forms_showing(client, bad):
    page, embed = _origin(), _origin(OriginKind.EMBED, allowed_domains=["https://a.example"])

    assert client.get(f"/r/{page.ref}", headers={"Referer": bad}).status_code == 200
    assert client.get(f"/embed/{embed.ref}", headers={"Referer": bad}).status_code == 200
    assert client.get(f"/embed/{embed.ref}", query_string={"url": bad}).status_code == 200
    assert client.get(f"/embed/{embed.ref}", query_string={"referrer": bad}).status_code == 200


@pytest.mark.parametrize("bad", BAD)
def test_a_bad_page_url_or_referrer_in_a_post_is_dropped_and_the_lead_registered(client, bad):
    origin = _origin()

    response = post_form(
        client,
        f"/r/{origin.ref}",
        origin.ref,
        email="ada@example.com",
        _source_url=bad,
        _referrer=bad,
    )

    assert response.status_code == 200
    lead = db.session.scalar(db.select(Lead))
    assert (lead.email, lead.source_url, lead.referrer) == ("ada@example.com", None, None)


@pytest.mark.parametrize("stored", STORED_BAD_URLS)
def test_a_bad_stored_redirect_url_leaves_the_hosted_page_working(client, stored):
    origin = _origin()
    _store(Origin, origin.id, redirect_url=stored)

    shown = client.get(f"/r/{origin.ref}")
    sent = post_form(client, f"/r/{origin.ref}", origin.ref, email="ada@example.com")

    assert shown.status_code == 200
    assert sent.status_code == 200  # the thank-you page: no redirect to a URL that does not parse
    assert stored not in sent.get_data(as_text=True)
    assert db.session.scalar(db.select(Lead.email)) == "ada@example.com"


@pytest.mark.parametrize("stored", STORED_BAD_URLS)
def test_a_bad_stored_redirect_url_leaves_the_journey_and_confirm_pages_working(client, stored):
    funnel = factories.staged_funnel(factories.workspace(), double_opt_in=True)
    origin = factories.origin(funnel, OriginKind.PAGE)
    journey = register(origin, LeadInput(email="ada@example.com"), RegistrationContext()).journey
    db.session.commit()
    _store(Journey, journey.id, redirect_url=stored)
    _store(Origin, origin.id, redirect_url=stored)

    page = client.get(f"/j/{journey.access_token}")

    assert page.status_code == 200
    assert "Continue</a>" not in page.get_data(as_text=True)
    confirmed = client.get(f"/confirm/{confirm_token(journey.lead_id, journey.id)}")
    assert confirmed.status_code == 200
    assert "Continue</a>" not in confirmed.get_data(as_text=True)
