"""Which requests are bots', by user agent: CrawlerDetect's patterns, kept up to date upstream
(a port of the PHP library of the same name), not a list of our own."""

from __future__ import annotations

from functools import lru_cache

from crawlerdetect import CrawlerDetect

# Its patterns are compiled once. Matching an agent not seen before takes about a millisecond
# (some 1,500 patterns), one seen before a microsecond: a site's visitors use a few thousand.
_detector = CrawlerDetect()


@lru_cache(maxsize=8192)
def is_bot(user_agent: str | None) -> bool:
    """True for crawlers, link previewers, headless browsers and HTTP libraries (curl,
    python-requests), and for a request that names no agent: every browser sends one."""
    return not user_agent or not user_agent.strip() or _detector.is_crawler(user_agent)
