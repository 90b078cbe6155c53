"""The embed's CSP reports: a refused frame is counted for the site the token names, anything
else is ignored, and the endpoint takes no more than a report's worth, at a browser's pace."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from leadsite.embed_violations import MAX_HOSTS_PER_ORIGIN
from leadsite.extensions import db
from leadsite.models import EmbedViolation, Origin, OriginKind
from tests import factories

OTHER_SITE = "https://blog.other.example"
REPORT_URI = re.compile(r"report-uri (\S+)")


@pytest.fixture
def origin() -> Origin:
    funnel = factories.staged_funnel(factories.workspace())
    return factories.origin(funnel, OriginKind.EMBED, allowed_domains=["https://shop.example"])


def report_path(client, origin: Origin, referer: str | None = OTHER_SITE, **args: str) -> str:
    """The report URL the embed's CSP names when it is framed from `referer`."""
    headers = {"Referer": f"{referer}/pricing"} if referer else {}
    response = client.get(f"/embed/{origin.ref}", headers=headers, query_string=args)
    found = REPORT_URI.search(response.headers["Content-Security-Policy"])
    assert found is not None
    url = urlsplit(found.group(1))
    return f"{url.path}?{url.query}"


def chromium_report(directive: str = "frame-ancestors") -> dict[str, dict[str, object]]:
    """What Chromium 155 sends for a refused frame: our own origin, not the framing page."""
    return {
        "csp-report": {
            "document-uri": "http://localhost/",
            "referrer": "",
            "violated-directive": directive,
            "effective-directive": directive,
            "original-policy": "frame-ancestors https://shop.example",
            "disposition": "enforce",
            "blocked-uri": "http://localhost/",
            "status-code": 200,
        }
    }


def send(client, path: str, report: object = None, **kwargs: object):
    body = json.dumps(chromium_report() if report is None else report)
    kwargs.setdefault("content_type", "application/csp-report")
    return client.post(path, data=body, **kwargs)


def violations(origin: Origin) -> list[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.scalars(db.select(EmbedViolation).filter_by(origin_id=origin.id))
    return [(row.host, row.count) for row in rows]


def test_the_embeds_policy_names_a_report_uri_and_nothing_else_does(client, origin):
    embed = client.get(f"/embed/{origin.ref}", headers={"Referer": OTHER_SITE})
    hosted = client.get("/login")

    policy = embed.headers["Content-Security-Policy"]
    assert "frame-ancestors https://shop.example; report-uri http://localhost/csp-reports/" in (
        policy
    )
    assert "report-to" not in policy  # with it, Chromium would ignore report-uri
    assert "report-uri" not in hosted.headers["Content-Security-Policy"]


def test_a_refused_frame_is_counted_for_the_site_that_framed_it(client, origin):
    path = report_path(client, origin)

    first = send(client, path)
    send(client, path)

    assert first.status_code == 204 and first.get_data() == b""
    assert violations(origin) == [(OTHER_SITE, 2)]


def test_embed_js_names_the_page_when_the_browser_sends_no_referer(client, origin):
    path = report_path(client, origin, referer=None, url="http://127.0.0.1:8001/blog/post")

    send(client, path)

    assert violations(origin) == [("http://127.0.0.1:8001", 1)]


@pytest.mark.parametrize(
    "report",
    [
        chromium_report("script-src-elem"),  # another directive
        {"csp-report": "frame-ancestors"},
        [{"type": "csp-violation", "body": {"effectiveDirective": "frame-ancestors"}}],
        {"something": "else"},
    ],
)
def test_reports_about_anything_else_are_ignored(client, origin, report):
    path = report_path(client, origin)

    response = send(client, path, report)

    assert response.status_code == 204
    assert violations(origin) == []


def test_a_report_without_a_valid_token_for_this_origin_is_ignored(client, origin):
    other = factories.origin(origin.funnel, OriginKind.EMBED)
    theirs = report_path(client, other)
    tampered = report_path(client, origin)[:-3] + "xyz"

    statuses = [
        send(client, f"/csp-reports/embed/{origin.ref}").status_code,
        send(client, tampered).status_code,
        send(client, theirs.replace(other.ref, origin.ref, 1)).status_code,
    ]

    assert statuses == [204, 204, 204]
    assert violations(origin) == [] and violations(other) == []


def test_a_site_already_allowed_is_not_recorded(client, origin):
    path = report_path(client, origin, referer="https://shop.example")

    send(client, path)

    assert violations(origin) == []


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/csp-reports/embed/nosuchref", "{}", 404),
        (None, "not json", 400),
        # Nested past the parser's recursion limit, well under the size limit: it answered 500.
        (None, "[" * 5000 + "]" * 5000, 400),
        (None, b'{"csp-report": "\xff"}', 400),
        (None, json.dumps({"csp-report": {"x": "y" * 20_000}}), 413),
    ],
)
def test_bad_reports_get_a_plain_status(client, origin, path, body, status):
    path = path or report_path(client, origin)

    response = client.post(path, data=body, content_type="application/csp-report")

    assert response.status_code == status
    assert violations(origin) == []


def test_an_origin_keeps_a_bounded_number_of_sites(client, origin):
    paths = [
        report_path(client, origin, referer=f"https://site{n}.example")
        for n in range(MAX_HOSTS_PER_ORIGIN + 1)
    ]

    for path in paths:
        send(client, path)
    send(client, paths[0])

    rows = dict(violations(origin))
    assert len(rows) == MAX_HOSTS_PER_ORIGIN
    assert f"https://site{MAX_HOSTS_PER_ORIGIN}.example" not in rows
    assert rows["https://site0.example"] == 2  # a site already listed keeps counting


def test_reports_are_rate_limited_per_address_and_origin(client, origin):
    path = report_path(client, origin)

    statuses = [send(client, path).status_code for _ in range(31)]

    assert statuses[:30] == [204] * 30 and statuses[30] == 429
    assert violations(origin) == [(OTHER_SITE, 30)]
