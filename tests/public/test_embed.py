"""The embeddable form /embed/<ref>: framable by the allowed domains only, attribution from
embed.js, minimal chrome, and a redirect the top window follows."""

from __future__ import annotations

import re

import pytest

from leadsite.extensions import db
from leadsite.models import Lead, OriginKind
from leadsite.public.framing import frame_sources, framing_problem
from tests import factories
from tests.public.helpers import post_form

ALLOWED = ["https://*.example.com", "http://localhost:*"]


@pytest.fixture
def origin():
    return factories.origin(
        factories.staged_funnel(factories.workspace()), OriginKind.EMBED, allowed_domains=ALLOWED
    )


def frame_ancestors(response) -> str:
    return re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"])[1]


def test_the_embed_form_may_be_framed_by_the_allowed_domains_and_nothing_else(client, origin):
    response = client.get(f"/embed/{origin.ref}")

    assert response.status_code == 200
    assert frame_ancestors(response) == "https://*.example.com http://localhost:*"
    assert "X-Frame-Options" not in response.headers


def test_its_error_and_success_answers_may_be_framed_too(client, origin):
    invalid = post_form(client, f"/embed/{origin.ref}", origin.ref, email="nope")
    done = post_form(client, f"/embed/{origin.ref}", origin.ref, email="ada@example.com")

    assert invalid.status_code == 422
    assert (
        frame_ancestors(invalid)
        == frame_ancestors(done)
        == "https://*.example.com http://localhost:*"
    )


@pytest.mark.parametrize("path", ["/r/{ref}", "/login", "/j/nothing", "/unsubscribe/x"])
def test_every_other_route_keeps_frame_ancestors_none(client, origin, path):
    page_origin = factories.origin(origin.funnel, OriginKind.PAGE, allowed_domains=ALLOWED)

    response = client.get(path.format(ref=page_origin.ref))

    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_embed_origin_without_allowed_domains_cannot_be_framed_and_says_why(client):
    origin = factories.origin(factories.staged_funnel(factories.workspace()), OriginKind.EMBED)

    response = client.get(f"/embed/{origin.ref}")

    assert frame_ancestors(response) == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "No site may show this form" in framing_problem(origin)


def test_allowed_domains_that_are_not_site_addresses_never_reach_the_policy():
    sources = frame_sources(
        ["https://ok.example", "https://x.example; script-src *", "http://a b", "*", "localhost:*"]
    )

    assert sources == ["https://ok.example", "*", "localhost:*"]


def test_framing_problem_is_none_for_a_well_configured_embed_origin(origin):
    assert framing_problem(origin) is None


def test_the_parent_page_url_referrer_and_utm_from_embed_js_reach_the_form(client, origin):
    body = client.get(
        f"/embed/{origin.ref}",
        query_string={
            "url": "https://www.example.com/pricing?utm_source=ads",
            "referrer": "https://search.example/",
            "utm_source": "ads",
            "js": "1",
        },
    ).get_data(as_text=True)

    assert 'data-parent-origin="https://www.example.com"' in body
    assert "data-embed-script" in body
    assert 'name="_source_url" value="https://www.example.com/pricing?utm_source=ads"' in body
    assert 'name="_referrer" value="https://search.example/"' in body
    assert 'name="_utm_source" value="ads"' in body
    assert 'class="embed"' in body and 'rel="icon"' not in body


def test_a_parent_outside_the_allowed_domains_gets_no_messages(client, origin):
    body = client.get(
        f"/embed/{origin.ref}", query_string={"url": "https://evil.test/page"}
    ).get_data(as_text=True)

    assert "data-parent-origin" not in body


def test_a_plain_iframe_uses_the_referer_as_the_page_url(client, origin):
    body = client.get(
        f"/embed/{origin.ref}", headers={"Referer": "https://shop.example.com/"}
    ).get_data(as_text=True)

    assert 'name="_source_url" value="https://shop.example.com/"' in body
    assert 'data-parent-origin="https://shop.example.com"' in body
    assert "data-embed-script" not in body


def test_submitting_the_embed_form_registers_with_the_parent_page_attribution(client, origin):
    response = post_form(
        client,
        f"/embed/{origin.ref}",
        origin.ref,
        email="ada@example.com",
        _source_url="https://www.example.com/pricing?utm_source=ads&utm_medium=cpc",
    )

    lead = db.session.scalar(db.select(Lead))
    assert response.status_code == 200
    assert lead.source_url == "https://www.example.com/pricing?utm_source=ads&utm_medium=cpc"
    assert (lead.utm_source, lead.utm_medium) == ("ads", "cpc")
    assert lead.origin_id == origin.id


def test_a_redirect_after_the_embed_form_is_for_the_top_window(client, origin):
    origin.redirect_url = "https://www.example.com/thanks"
    db.session.commit()

    plain = post_form(client, f"/embed/{origin.ref}", origin.ref, email="ada@example.com")
    scripted = post_form(client, f"/embed/{origin.ref}", origin.ref, True, email="b@example.com")

    assert plain.status_code == 200  # never a 303 inside the frame
    assert 'href="https://www.example.com/thanks" target="_top"' in plain.get_data(as_text=True)
    assert 'data-redirect="https://www.example.com/thanks"' in scripted.get_data(as_text=True)


def test_a_closed_embed_form_says_so_inside_the_frame(client, origin):
    origin.active = False
    db.session.commit()

    response = client.get(f"/embed/{origin.ref}")

    assert response.status_code == 404
    assert frame_ancestors(response) == "https://*.example.com http://localhost:*"
    assert "<form" not in response.get_data(as_text=True)


def test_a_page_origin_is_not_served_as_an_embed(client, origin):
    page_origin = factories.origin(origin.funnel, OriginKind.PAGE, allowed_domains=ALLOWED)

    response = client.get(f"/embed/{page_origin.ref}")

    assert response.status_code == 404
    assert frame_ancestors(response) == "'none'"
