"""The languages leads are spoken to in: which one a request, a lead or an email gets.

Public pages speak the origin's language (`origin.settings["language"]`), or the browser's
(`Accept-Language`) when the origin says "browser"; pages and emails about a lead speak the
language the lead registered in (`Lead.language`). The back-office and the API stay English.
Staff-written texts (success message, field labels, email subject and body) have translations
per language, kept next to the default text as `{"translations": {lang: {...}}}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import g, has_request_context, request
from flask_babel import format_date, format_time, get_locale, refresh

from leadsite import values

DEFAULT = "en"
BROWSER = "browser"
# The languages, by code, named in themselves: that is how a lead looks for theirs.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
LANGUAGES = tuple(LANGUAGE_NAMES)
ORIGIN_CHOICES = (BROWSER, *LANGUAGES)


def select_locale() -> str:
    """Flask-Babel's locale selector: what a view chose (`speak`), else the browser's language
    on the public pages, else English."""
    chosen = g.get("lead_language") if has_request_context() else None
    if chosen:
        return chosen
    if has_request_context() and request.blueprint == "public":
        return browser_language()
    return DEFAULT


def browser_language() -> str:
    """The best of our languages for the browser's `Accept-Language`, English when none fits."""
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT


def speak(language: str) -> str:
    """Speak `language` for the rest of this request (the page and what it queues)."""
    g.lead_language = language if language in LANGUAGES else DEFAULT
    refresh()
    return g.lead_language


def current() -> str:
    """The language this request (or `force_locale` block) speaks."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT


def origin_language(origin: Any) -> str:
    """The language an origin's form is shown in: its setting, or the browser's."""
    settings = origin.settings if isinstance(origin.settings, dict) else {}
    chosen = settings.get("language")
    return chosen if chosen in LANGUAGES else browser_language()


def lead_language(lead: Any) -> str:
    """The language a lead registered in; English for leads from before languages."""
    return lead.language if getattr(lead, "language", None) in LANGUAGES else DEFAULT


def language(raw: Any) -> str | None:
    """A language code as a door sends it (`de`, `DE`, `de-AT`), or None when not given."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    code = raw.strip().lower().replace("_", "-").split("-")[0] if isinstance(raw, str) else None
    if code not in LANGUAGES:
        raise values.Invalid(f"must be one of: {', '.join(LANGUAGES)}")
    return code


def moment(value: datetime) -> str:
    """A date and time as the language being spoken writes them, in UTC: `14 March 2027,
    09:30 UTC`, `14. März 2027, 09:30 UTC` (no seconds, which Babel's long format has)."""
    return f"{format_date(value, 'long')}, {format_time(value, 'short')} UTC"


def staff_texts(holder: Any, lang: str) -> dict[str, Any]:
    """The staff's translations in `lang` from a settings or config dict (`{}` when none, and
    always for English: the default texts are the English ones)."""
    translations = holder.get("translations") if isinstance(holder, dict) else None
    texts = translations.get(lang) if isinstance(translations, dict) else None
    return texts if isinstance(texts, dict) and lang != DEFAULT else {}


def staff_text(texts: dict[str, Any], key: str, default: Any) -> Any:
    """One translated text, or the default when the translation is missing or blank."""
    value = texts.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else default
