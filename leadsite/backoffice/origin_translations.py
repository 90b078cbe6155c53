"""Translations of staff-written texts: an origin's form and an `email_lead` activity's email.

An origin keeps its language (`settings["language"]`: one of `i18n.LANGUAGES`, or "browser")
and its texts per language in `settings["translations"][lang]`; an activity keeps its subject
and body per language in `config["translations"][lang]`. Empty texts are not stored: the lead
then sees the default (English) text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from leadsite import i18n
from leadsite.backoffice import bp
from leadsite.backoffice.funnel_changes import find_activity, find_origin
from leadsite.backoffice.funnel_edit import funnel_or_404
from leadsite.extensions import db
from leadsite.htmx import is_htmx, render_page_or_block
from leadsite.journeys.emails import check_template, sample_budget_problem
from leadsite.models import ActivityKind, Funnel, OriginKind
from leadsite.public.fields import form_fields

ORIGIN_TEMPLATE = "backoffice/funnels/origin_translations.html"
ACTIVITY_TEMPLATE = "backoffice/funnels/activity_translations.html"
TRANSLATED = tuple(language for language in i18n.LANGUAGES if language != i18n.DEFAULT)
ORIGIN_CHOICES = [(i18n.BROWSER, "The browser's language (Accept-Language)")] + [
    (code, name) for code, name in i18n.LANGUAGE_NAMES.items()
]
FORM_KINDS = (OriginKind.PAGE, OriginKind.EMBED)


@dataclass
class Text:
    """One staff-written text: its default, and what staff typed for each language."""

    key: str  # the key in the translations: `title`, or `fields.email` for a field's label
    label: str
    default: str
    max_length: int
    multiline: bool = False
    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def input_name(self, language: str) -> str:
        return f"{language}-{self.key}"

    def input_id(self, language: str) -> str:
        return "t-" + self.input_name(language).replace(".", "-").replace("_", "-")


def _stored(texts: dict[str, Any], key: str) -> str:
    """A text from one language's translations, `fields.email` naming a label in `fields`."""
    group, _, name = key.partition(".")
    value = texts.get(group, {}).get(name) if name else texts.get(key)
    return value if isinstance(value, str) else ""


def _fill(texts: list[Text], holder: Any) -> list[Text]:
    for language in TRANSLATED:
        stored = i18n.staff_texts(holder, language)
        for text in texts:
            text.typed[language] = _stored(stored, text.key)
    return texts


def _read(texts: list[Text]) -> dict[str, dict[str, Any]]:
    """What was posted, by language, without the empty texts; errors go on the texts."""
    result: dict[str, dict[str, Any]] = {}
    for language in TRANSLATED:
        mine: dict[str, Any] = {}
        for text in texts:
            typed = request.form.get(text.input_name(language), "").strip()
            text.typed[language] = typed
            if not typed:
                continue
            if len(typed) > text.max_length:
                text.errors[language] = f"At most {text.max_length} characters."
                continue
            group, _, name = text.key.partition(".")
            if name:
                mine.setdefault(group, {})[name] = typed
            else:
                mine[text.key] = typed
        if mine:
            result[language] = mine
    return result


def _origin_texts(funnel: Funnel, origin: Any) -> list[Text]:
    settings = origin.settings if isinstance(origin.settings, dict) else {}
    consent = settings.get("consent") if isinstance(settings.get("consent"), dict) else {}
    texts = [
        Text("title", "Title", settings.get("title") or funnel.name, 200),
        Text("intro", "Introduction", settings.get("intro") or "", 5000, multiline=True),
        Text("submit_label", "Button", settings.get("submit_label") or "Sign up", 100),
    ]
    if consent.get("text"):
        texts.append(Text("consent", "Consent", consent["text"], 2000, multiline=True))
    success = origin.success_message or "Thank you: you are registered."
    texts.append(Text("success_message", "Success message", success, 2000, multiline=True))
    for item in form_fields(origin, funnel):
        texts.append(Text(f"fields.{item.name}", f"Label: {item.label}", item.label, 200))
        if item.help:
            texts.append(Text(f"help.{item.name}", f"Help: {item.label}", item.help, 500))
    return texts


def _origin_or_404(funnel: Funnel, origin_id: str) -> Any:
    origin = find_origin(funnel, origin_id)
    if origin is None or origin.kind not in FORM_KINDS:
        abort(404)
    return origin


def _page(template: str, status: int, texts: list[Text], **context: Any) -> Response:
    """The translations page, or its form alone for htmx."""
    languages = [(code, i18n.LANGUAGE_NAMES[code]) for code in TRANSLATED]
    return render_page_or_block(
        template, "translations_form", status=status, texts=texts, languages=languages, **context
    )


def _saved(message: str) -> Response | None:
    """Commit; a browser goes back to the page (POST-redirect-GET), htmx gets the form."""
    db.session.commit()
    flash(message, "success")
    return None if is_htmx() else redirect(request.path)


@bp.route("/funnels/edit/<funnel_id>/origins/<origin_id>/translations", methods=["GET", "POST"])
def origin_translations(funnel_id: str, origin_id: str) -> Response:
    """The language of a form origin's page, and its texts in each language."""
    funnel = funnel_or_404(funnel_id)
    origin = _origin_or_404(funnel, origin_id)
    texts = _origin_texts(funnel, origin)
    settings = dict(origin.settings) if isinstance(origin.settings, dict) else {}
    language = settings.get("language") or i18n.BROWSER
    language_error = None
    status = 200
    if request.method == "GET":
        _fill(texts, settings)
    else:
        language = request.form.get("language", "")
        translations = _read(texts)
        if language not in i18n.ORIGIN_CHOICES:
            language_error = "Choose one of the languages offered."
        status = 422 if language_error or any(text.errors for text in texts) else 200
        if status == 200:
            origin.settings = {**settings, "language": language, "translations": translations}
            redirected = _saved(f"Translations of “{origin.name}” saved.")
            if redirected:
                return redirected
    return _page(
        ORIGIN_TEMPLATE,
        status,
        texts,
        funnel=funnel,
        origin=origin,
        language=language,
        language_error=language_error,
        choices=ORIGIN_CHOICES,
    )


def _template_errors(texts: list[Text]) -> None:
    """A subject or body that cannot render is refused now, as the activity form refuses it."""
    for text in texts:
        for language, typed in text.typed.items():
            problem = typed and (check_template(typed) or sample_budget_problem(typed))
            if problem and language not in text.errors:
                text.errors[language] = f"This template {problem}."


@bp.route(
    "/funnels/edit/<funnel_id>/activities/<activity_id>/translations", methods=["GET", "POST"]
)
def activity_translations(funnel_id: str, activity_id: str) -> Response:
    """An `email_lead` activity's subject and body in each language: a lead who registered in
    that language gets them."""
    funnel = funnel_or_404(funnel_id)
    activity = find_activity(funnel, activity_id)
    if activity is None or activity.kind != ActivityKind.EMAIL_LEAD:
        abort(404)
    config = dict(activity.config or {})
    texts = [
        Text("subject", "Subject", config.get("subject") or activity.title, 20_000),
        Text("body", "Body", config.get("body") or "", 20_000, multiline=True),
    ]
    status = 200
    if request.method == "GET":
        _fill(texts, config)
    else:
        translations = _read(texts)
        _template_errors(texts)
        status = 422 if any(text.errors for text in texts) else 200
        if status == 200:
            activity.config = {**config, "translations": translations}
            redirected = _saved(f"Translations of “{activity.title}” saved.")
            if redirected:
                return redirected
    edit_url = url_for("backoffice.activity_edit", funnel_id=funnel.id, activity_id=activity.id)
    return _page(
        ACTIVITY_TEMPLATE, status, texts, funnel=funnel, activity=activity, edit_url=edit_url
    )
