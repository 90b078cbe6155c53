"""The languages leads are spoken to in: which one a request gets."""

from __future__ import annotations

LANGUAGES = ("en",)


def select_locale() -> str:
    """English until the public pages are translated."""
    return "en"
