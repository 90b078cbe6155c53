"""Values that once answered 500 somewhere: URLs `urlsplit` or `.port` raise on, and the like.

Each URL comes with the part of the message that must say what is wrong with it.
"""

from __future__ import annotations

BAD_URLS = [
    ("http://[x/", "[ without its ]"),
    ("http://[::1/", "[ without its ]"),
    ("http://[v1.x]/", "invalid IPv6 address"),
    ("http://a:99999/", "port that is not a number from 1 to 65535"),
    ("http://a:0/", "port that is not a number from 1 to 65535"),
    ("http://a:port/", "port that is not a number from 1 to 65535"),
    ("http://exa\r\nmple.com/", "line breaks or control characters"),
    ("http://a\u2100b.com/", "not allowed in a host name"),
    ("http://a..b/", "host name that is not valid"),
    ("ftp://files.example.com/", "absolute http:// or https:// URL"),
]
BAD_URL_IDS = [url.encode("unicode_escape").decode() for url, _ in BAD_URLS]
# Stored before any check (or written around one): reading them must not fail.
STORED_BAD_URLS = ["http://[x/", "http://a:99999/", "javascript:alert(1)", "http://a\r\nb/"]

# 127.0.0.1 written so that only a resolver's IDNA/NFKC normalisation makes it loopback.
FULL_WIDTH_DIGITS = "\uff11\uff12\uff17.\uff10.\uff10.\uff11"
FULL_WIDTH_DOTS = "127\uff0e0\uff0e0\uff0e1"
IDEOGRAPHIC_DOTS = "127\u30020\u30020\u30021"
