"""The one URL parser (`values.parse_url`) and its readers of stored and local URLs."""

from __future__ import annotations

import pytest

from leadsite import values
from tests.bad_values import (
    BAD_URL_IDS,
    BAD_URLS,
    FULL_WIDTH_DIGITS,
    FULL_WIDTH_DOTS,
    IDEOGRAPHIC_DOTS,
    STORED_BAD_URLS,
)


@pytest.mark.parametrize(("raw", "message"), BAD_URLS, ids=BAD_URL_IDS)
def test_a_bad_url_is_invalid_with_a_message_saying_why(raw, message):
    with pytest.raises(values.Invalid, match=message.replace("[", r"\[")):
        values.url(raw)


def test_a_url_is_taken_apart_with_its_host_as_the_resolver_sees_it():
    parsed = values.parse_url("https://user:pw@Bücher.example:8443/a/b?c=1")

    assert (parsed.scheme, parsed.host, parsed.port) == ("https", "xn--bcher-kva.example", 8443)
    assert (parsed.path, parsed.query) == ("/a/b", "c=1")
    assert parsed.origin == "https://xn--bcher-kva.example:8443"


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        (f"http://{FULL_WIDTH_DIGITS}/", "127.0.0.1"),
        (f"http://{FULL_WIDTH_DOTS}/", "127.0.0.1"),
        (f"http://{IDEOGRAPHIC_DOTS}/", "127.0.0.1"),
        ("http://[::127.0.0.1]:8080/", "::7f00:1"),
    ],
)
def test_unicode_digits_and_dots_are_normalised_as_the_resolver_does(raw, host):
    assert values.parse_url(raw).host == host


@pytest.mark.parametrize("raw", STORED_BAD_URLS)
def test_a_stored_url_that_does_not_parse_reads_as_none(raw):
    assert values.stored_url(raw) is None
    assert values.stored_url_text(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/p/leads?status=new", "/p/leads?status=new"),
        ("//evil.example/", None),
        ("/\\evil.example/", None),
        ("https://evil.example/", None),
        ("/p/\r\nSet-Cookie: x=1", None),
        ("/[x", "/[x"),
        ("", None),
    ],
)
def test_local_path_only_follows_paths_on_this_site(raw, expected):
    assert values.local_path(raw) == expected


def test_url_parts_answers_none_where_urlsplit_raises():
    assert values.url_parts("http://[x/") is None
    assert values.url_parts("http://a:99999/") is None
    assert values.url_parts("/p/leads?x=1").query == "x=1"
