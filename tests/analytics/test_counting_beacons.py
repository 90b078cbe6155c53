"""Views and starts: the hosted page counts its GET, beacons count the rest; bots never."""

from __future__ import annotations

import pytest

from leadsite.extensions import db
from leadsite.models import FormCount, OriginKind
from tests import factories
from tests.analytics.helpers import BOTS, CHROME, SAFARI_IPHONE, counts, total

FIELDS = [{"field": "first_name", "required": True}, {"field": "email"}]


def form_origin(kind: OriginKind = OriginKind.PAGE, **fields: object):
    funnel = factories.staged_funnel(factories.workspace())
    fields.setdefault(
        "form_fields", [{"field": "first_name", "required": True}, {"field": "email"}]
    )
    return factories.origin(funnel, kind, **fields)


def beacon(client, ref: str, agent: str = CHROME, **form: str):
    return client.post(f"/b/{ref}", data=form, headers={"User-Agent": agent})


def test_the_hosted_page_counts_its_get_with_referrer_host_and_campaign(client):
    origin = form_origin()

    client.get(
        f"/r/{origin.ref}?utm_campaign=spring&utm_source=news",
        headers={"User-Agent": CHROME, "Referer": "https://News.Example.com/post/1?x=2"},
    )
    client.get(f"/r/{origin.ref}", headers={"User-Agent": SAFARI_IPHONE})
    client.head(f"/r/{origin.ref}", headers={"User-Agent": CHROME})

    assert counts(origin) == {
        ("view", "", "news.example.com", "spring"): 1,
        ("view", "", "", ""): 1,
    }
    row = db.session.scalar(db.select(FormCount).filter_by(origin_id=origin.id, utm_campaign=""))
    assert row.workspace_id == origin.workspace_id and row.funnel_id == origin.funnel_id


@pytest.mark.parametrize("agent", BOTS)
def test_a_bot_viewing_the_hosted_page_or_sending_a_beacon_is_not_counted(client, agent):
    origin = form_origin()

    assert client.get(f"/r/{origin.ref}", headers={"User-Agent": agent}).status_code == 200
    assert beacon(client, origin.ref, agent, event="start").status_code == 204

    assert counts(origin) == {}


def test_beacons_count_views_and_starts_of_embed_and_page_forms(client):
    embed, page = form_origin(OriginKind.EMBED), form_origin(OriginKind.PAGE)

    answers = [
        beacon(client, embed.ref, event="view", referrer="www.google.com", utm_campaign="spring"),
        beacon(client, embed.ref, event="view", referrer="www.google.com", utm_campaign="spring"),
        beacon(client, embed.ref, SAFARI_IPHONE, event="start"),
        beacon(client, page.ref, event="start", referrer="https://t.co/abc"),
    ]

    assert [answer.status_code for answer in answers] == [204] * 4
    assert all(answer.data == b"" and "Set-Cookie" not in answer.headers for answer in answers)
    assert counts(embed) == {
        ("view", "", "www.google.com", "spring"): 2,
        ("start", "", "", ""): 1,
    }
    assert counts(page) == {("start", "", "t.co", ""): 1}


@pytest.mark.parametrize("event", ["", "submit", "VIEW", "registered_new", "held"])
def test_a_beacon_of_another_event_is_refused_with_400(client, event):
    origin = form_origin()

    answer = beacon(client, origin.ref, event=event)

    assert answer.status_code == 400
    assert answer.get_data(as_text=True) == 'event: must be "view" or "start"'
    assert counts(origin) == {}


def test_a_beacon_for_an_unknown_inactive_or_api_origin_is_404(client):
    api = form_origin(OriginKind.API)
    inactive = form_origin(active=False)

    for ref in ("nope", api.ref, inactive.ref):
        assert beacon(client, ref, event="view").status_code == 404
    assert counts(api) == {} and counts(inactive) == {}


def test_a_referrer_that_is_not_a_host_is_counted_as_none_and_long_values_are_cut(client):
    origin = form_origin()

    beacon(client, origin.ref, event="start", referrer="not a host!", utm_campaign="c" * 300)

    assert counts(origin) == {("start", "", "", "c" * 200): 1}


def test_beacons_are_rate_limited_per_address_and_form(app, client):
    app.config["BEACON_RATE_LIMIT"] = "2 per minute"
    origin, other = form_origin(), form_origin()

    statuses = [beacon(client, origin.ref, event="start").status_code for _ in range(3)]

    assert statuses == [204, 204, 429]
    assert beacon(client, other.ref, event="start").status_code == 204
    assert total(origin, "start") == 2
    app.config["BEACON_RATE_LIMIT"] = "60 per minute"


def test_the_form_pages_carry_the_start_beacon_with_host_and_campaign_but_no_path(client):
    page, embed = form_origin(), form_origin(OriginKind.EMBED)

    hosted = client.get(
        f"/r/{page.ref}?utm_campaign=spring", headers={"Referer": "https://news.example.com/a/b"}
    ).get_data(as_text=True)
    framed = client.get(
        f"/embed/{embed.ref}?url=https://shop.example/p%3Futm_campaign%3Dfall"
        "&referrer=https://www.bing.com/search%3Fq%3Dsecret&utm_campaign=fall&js=1"
    ).get_data(as_text=True)

    assert (
        f'<meta name="leadsite-beacon" content="/b/{page.ref}" '
        'data-referrer="news.example.com" data-utm_campaign="spring">'
    ) in hosted
    assert (
        f'<meta name="leadsite-beacon" content="/b/{embed.ref}" '
        'data-referrer="www.bing.com" data-utm_campaign="fall">'
    ) in framed
    assert "secret" not in framed.split("leadsite-beacon")[1].split(">")[0]


def test_the_embed_frame_get_is_not_a_view(client):
    origin = form_origin(OriginKind.EMBED)

    client.get(f"/embed/{origin.ref}?js=1", headers={"User-Agent": CHROME})

    assert counts(origin) == {}
