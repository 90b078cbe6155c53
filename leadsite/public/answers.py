"""Answers to a form's own questions (kept in the lead's custom fields), checked by their type."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from leadsite import values
from leadsite.public.fields import FormField

MAX_ANSWER = 2000


def answer(item: FormField, raw: str | None, region: str | None) -> Any:
    """The value kept for a question's answer: a checkbox is true or false, an email lower-cased,
    a phone number in E.164, a number a number, a date `YYYY-MM-DD`, a choice one of its options.

    Raises `values.Invalid` with the message the lead sees on the field."""
    if item.input == "checkbox":
        return raw == "on"
    text = (raw or "").strip()
    if not text:
        return None
    try:
        match item.input:
            case "email":
                return values.email(text)
            case "tel":
                return values.phone(text, region)
            case "number":
                return values.number(text)
            case "date":
                return date.fromisoformat(text).isoformat()
            case "select" | "radios":
                return _choice(item, text)
            case _:
                return values.text(text, MAX_ANSWER)
    except (values.Invalid, ValueError):
        raise values.Invalid(_problem(item)) from None


def _choice(item: FormField, text: str) -> str:
    for choice in item.choices:
        if choice.casefold() == text.casefold():
            return choice
    raise values.Invalid(_problem(item))


def _problem(item: FormField) -> str:
    label = item.label
    match item.input:
        case "email":
            return _("Enter “%(label)s” as an email address, like name@example.com", label=label)
        case "tel":
            return _("Enter “%(label)s” as a phone number, with its country code", label=label)
        case "number":
            return _("Enter “%(label)s” as a number", label=label)
        case "date":
            return _("Enter “%(label)s” as a date", label=label)
        case "select" | "radios":
            return _("Choose one of the options for “%(label)s”", label=label)
        case _:
            return _(
                "“%(label)s” is too long: at most %(max)s characters", label=label, max=MAX_ANSWER
            )
